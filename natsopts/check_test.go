package natsopts_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// pin is a well-formed pinned-key hash.
const pin = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"

// routes parses route URLs.
func routes(urls ...string) []*url.URL {
	out := make([]*url.URL, 0, len(urls))
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			panic(err)
		}
		out = append(out, p)
	}
	return out
}

// TestApplyRefuses: every configuration that cannot work is refused with a
// ConfigError naming the listener and option, and opts is left unchanged.
func TestApplyRefuses(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	withCluster := func(o *server.Options) { o.Cluster.Name, o.Cluster.Port = "C", -1 }
	withGateway := func(o *server.Options) { o.Gateway.Name, o.Gateway.Port = "A", -1 }
	for _, tc := range []struct {
		name     string
		edit     func(*server.Options)
		options  []natsopts.Option
		listener string
		option   string
	}{
		{"OCSP stapling always", func(o *server.Options) { o.OCSPConfig = &server.OCSPConfig{Mode: server.OCSPModeAlways} }, nil, "server", "OCSPConfig.Mode"},
		{"OCSP stapling must", func(o *server.Options) { o.OCSPConfig = &server.OCSPConfig{Mode: server.OCSPModeMust} }, nil, "server", "OCSPConfig.Mode"},
		{"TLS rate limit", func(o *server.Options) { o.TLSRateLimit = 100 }, nil, "server", "TLSRateLimit"},
		{"insecure client", func(o *server.Options) { o.TLSConfig = &tls.Config{InsecureSkipVerify: true} }, nil, "client", "TLSConfig.InsecureSkipVerify"},
		{"insecure leafnode remote", func(o *server.Options) {
			o.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: routes("nats://localhost:7422"), TLSConfig: &tls.Config{InsecureSkipVerify: true}}}
		}, nil, "leafnode remote 0", "LeafNode.Remotes[0].TLSConfig.InsecureSkipVerify"},
		{"insecure cluster", func(o *server.Options) { withCluster(o); o.Cluster.TLSConfig = &tls.Config{InsecureSkipVerify: true} }, nil, "cluster", "Cluster.TLSConfig.InsecureSkipVerify"},
		{"cluster config with GetConfigForClient", func(o *server.Options) {
			withCluster(o)
			o.Cluster.TLSConfig = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return nil, nil }}
		}, nil, "cluster", "Cluster.TLSConfig.GetConfigForClient"},
		{"negative client timeout", func(o *server.Options) { o.TLSTimeout = -1 }, nil, "client", "TLSTimeout"},
		{"negative cluster timeout", func(o *server.Options) { withCluster(o); o.Cluster.TLSTimeout = -0.5 }, nil, "cluster", "Cluster.TLSTimeout"},
		{"TLSMap without client certificates", func(o *server.Options) { o.TLSMap = true }, nil, "client", "TLSMap"},
		{"MQTT TLSMap without client certificates", func(o *server.Options) { o.MQTT.Port, o.MQTT.TLSMap = -1, true }, nil, "mqtt", "MQTT.TLSMap"},
		{"TLSMap with a config that asks for no certificate", func(o *server.Options) {
			o.Websocket.Port, o.Websocket.TLSMap = -1, true
			o.Websocket.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS13}
		}, nil, "websocket", "Websocket.TLSMap"},
		{"client advertise not covered", func(o *server.Options) { o.ClientAdvertise = "nats.example.com:4222" }, nil, "client", "ClientAdvertise"},
		{"cluster advertise not covered", func(o *server.Options) { withCluster(o); o.Cluster.Advertise = "10.0.0.7:6222" }, nil, "cluster", "Cluster.Advertise"},
		{"gateway advertise not covered", func(o *server.Options) { withGateway(o); o.Gateway.Advertise = "gw.example.com" }, nil, "gateway", "Gateway.Advertise"},
		{"route host not covered", func(o *server.Options) { withCluster(o); o.Routes = routes("nats://nats-1.example.com:6222") }, nil, "cluster", "Routes[0]"},
		{"route IP not covered", func(o *server.Options) { withCluster(o); o.Routes = routes("nats://10.1.2.3:6222") }, nil, "cluster", "Routes[0]"},
		{"gateway URL not covered", func(o *server.Options) {
			withGateway(o)
			o.Gateway.Gateways = []*server.RemoteGatewayOpts{{Name: "B", URLs: routes("nats://gw.b.example.com:7222")}}
		}, nil, `gateway remote "B"`, "Gateway.Gateways[0].URLs[0]"},
		{"known URLs with IP routes", func(o *server.Options) { withCluster(o); o.Routes = routes("nats://127.0.0.1:6222") },
			[]natsopts.Option{natsopts.CheckKnownURLs(true)}, "cluster", "Cluster.TLSCheckKnownURLs"},
		{"known URLs without routes", func(o *server.Options) { withCluster(o); o.Cluster.TLSCheckKnownURLs = true }, nil, "cluster", "Cluster.TLSCheckKnownURLs"},
		{"known URLs with IP gateways", func(o *server.Options) {
			withGateway(o)
			o.Gateway.Gateways = []*server.RemoteGatewayOpts{{Name: "B", URLs: routes("nats://127.0.0.1:7222")}}
		}, []natsopts.Option{natsopts.CheckKnownURLs(true)}, "gateway", "Gateway.TLSCheckKnownURLs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := baseOpts()
			tc.edit(opts)
			before := snapshot(opts)
			err := natsopts.Apply(opts, m, tc.options...)
			var ce *natsopts.ConfigError
			require.True(t, errors.As(err, &ce), "want a ConfigError, got %v", err)
			require.Equal(t, tc.listener, ce.Listener, err.Error())
			require.Equal(t, tc.option, ce.Option, err.Error())
			require.NotEmpty(t, ce.Fix)
			require.NotEmpty(t, ce.Reason)
			require.Contains(t, err.Error(), tc.option)
			require.Equal(t, before, snapshot(opts), "Apply changed opts although it refused them")
			require.Equal(t, err.Error(), natsopts.Check(opts, m, tc.options...).Error())
		})
	}
}

// TestCheckReportsSharedConfigOnce: HTTPS monitoring shares the client's
// config, so a problem with it is reported once, not once per listener.
func TestCheckReportsSharedConfigOnce(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	opts := baseOpts()
	opts.HTTPSPort = -1
	opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	err := natsopts.Check(opts, m)
	require.Error(t, err)
	require.Equal(t, 1, strings.Count(err.Error(), "TLSConfig.InsecureSkipVerify"), err.Error())
}

// TestApplyAccepts: configurations close to the refused ones that work.
func TestApplyAccepts(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleClient: {VerifyPeers: true}}})
	for _, tc := range []struct {
		name    string
		edit    func(*server.Options)
		options []natsopts.Option
	}{
		{"OCSP never", func(o *server.Options) { o.OCSPConfig = &server.OCSPConfig{Mode: server.OCSPModeNever} }, nil},
		{"TLSMap with verified clients", func(o *server.Options) { o.TLSMap = true }, nil},
		{"a cloned config without certificates is replaced", func(o *server.Options) { o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS13} }, nil},
		{"routes by covered IP and name", func(o *server.Options) {
			o.Cluster.Port = -1
			o.Routes = routes("nats://127.0.0.1:6222", "nats://localhost:6223", "nats://[::1]:6224")
		}, nil},
		{"known URLs with a DNS route", func(o *server.Options) { o.Cluster.Port = -1; o.Routes = routes("nats://localhost:6222") },
			[]natsopts.Option{natsopts.CheckKnownURLs(true)}},
		{"routes anywhere when the cluster has a ca_file of its own", func(o *server.Options) {
			o.Cluster.Port = -1
			o.Cluster.TLSConfig = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool(), RootCAs: x509.NewCertPool()}
			o.Routes = routes("nats://nats-1.example.com:6222")
		}, nil},
		{"peer names off", func(o *server.Options) { o.Cluster.Port = -1; o.Routes = routes("nats://nats-1.example.com:6222") },
			[]natsopts.Option{natsopts.PeerNames(false)}},
		{"route with scheme nats-route and credentials", func(o *server.Options) {
			o.Cluster.Port = -1
			o.Routes = routes("nats-route://user:secret@localhost:6222")
		}, []natsopts.Option{natsopts.CheckKnownURLs(true)}},
		{"gateway URL by covered IP", func(o *server.Options) {
			o.Gateway.Name, o.Gateway.Port = "A", -1
			o.Gateway.Gateways = []*server.RemoteGatewayOpts{{Name: "B", URLs: routes("nats://127.0.0.1:7222")}}
		}, nil},
		{"known URLs matched by the own gateway's entry", func(o *server.Options) {
			// nats-server matches inbound gateways against every entry,
			// its own included.
			o.Gateway.Name, o.Gateway.Port = "A", -1
			o.Gateway.Gateways = []*server.RemoteGatewayOpts{
				{Name: "A", URLs: routes("nats://localhost:7222")},
				{Name: "B", URLs: routes("nats://127.0.0.1:7223")},
			}
		}, []natsopts.Option{natsopts.CheckKnownURLs(true)}},
		{"advertised hosts covered", func(o *server.Options) {
			o.ClientAdvertise = "localhost:4222"
			o.Cluster.Port, o.Cluster.Advertise = -1, "127.0.0.1:6222"
			o.Gateway.Name, o.Gateway.Port, o.Gateway.Advertise = "A", -1, "[::1]:7222"
			o.LeafNode.Port, o.LeafNode.Advertise = -1, "localhost"
		}, nil},
		{"cluster advertise off", func(o *server.Options) {
			o.Cluster.Port, o.Cluster.Advertise, o.Cluster.NoAdvertise = -1, "10.0.0.7:6222", true
		}, nil},
		{"leafnode remote with tls scheme", func(o *server.Options) {
			o.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: routes("tls://hub.example.com:7422")}}
		}, nil},
		{"websocket without TLS keeps its own config", func(o *server.Options) {
			o.Websocket.Port, o.Websocket.NoTLS = -1, true
			o.Websocket.TLSConfig = &tls.Config{Certificates: make([]tls.Certificate, 1)}
		}, nil},
		{"pins on a disabled cluster", func(o *server.Options) { o.Cluster.TLSPinnedCerts = server.PinnedCertSet{pin: {}} }, nil},
		{"client pins", func(o *server.Options) { o.TLSPinnedCerts = server.PinnedCertSet{pin: {}} }, nil},
		{"cluster pins (nats-server enforces them)", func(o *server.Options) {
			o.Cluster.Port, o.Cluster.TLSPinnedCerts = -1, server.PinnedCertSet{pin: {}}
		}, nil},
		{"leafnode pins with remotes", func(o *server.Options) {
			o.LeafNode.TLSPinnedCerts = server.PinnedCertSet{pin: {}}
			o.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: routes("nats://localhost:7422")}}
		}, nil},
		{"OCSP auto", func(o *server.Options) { o.OCSPConfig = &server.OCSPConfig{Mode: server.OCSPModeAuto} }, nil},
		{"client config with its own certificate is left unmanaged", func(o *server.Options) {
			o.TLSConfig = &tls.Config{Certificates: make([]tls.Certificate, 1)}
			o.ClientAdvertise = "elsewhere.example.com" // not checked: not our certificate
		}, nil},
		{"cluster with its own certificate and routes anywhere", func(o *server.Options) {
			o.Cluster.Port = -1
			o.Cluster.TLSConfig = &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, nil }}
			o.Routes = routes("nats://nats-1.example.com:6222")
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := baseOpts()
			tc.edit(opts)
			require.NoError(t, natsopts.Apply(opts, m, tc.options...))
		})
	}
}

// TestApplyIdempotent: a second Apply changes nothing (deep comparison of
// the options and the remote structs they point to), every enabled listener
// has the Manager's config, and disabled listeners are left alone.
func TestApplyIdempotent(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	opts := baseOpts()
	opts.HTTPSPort = -1
	opts.Websocket.Port, opts.Websocket.NoTLS = -1, true // behind a TLS-terminating proxy: left alone
	opts.MQTT.Port = -1
	opts.LeafNode.Port = -1
	opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: routes("nats://hub.example.com:7422")}}
	opts.Cluster.Name, opts.Cluster.Port = "A", -1
	opts.Routes = routes("nats://localhost:6222")
	opts.Gateway.Name, opts.Gateway.Port = "A", -1
	opts.Gateway.Gateways = []*server.RemoteGatewayOpts{{Name: "B", URLs: routes("nats://localhost:7222")}}
	opts.MaxPayload = 1234

	options := []natsopts.Option{natsopts.HandshakeFirst(true), natsopts.CheckKnownURLs(true)}
	require.NoError(t, natsopts.Apply(opts, m, options...))
	first := snapshot(opts)
	require.NoError(t, natsopts.Apply(opts, m, options...))
	require.True(t, reflect.DeepEqual(first, snapshot(opts)), "second Apply changed the options")

	cfg := func(r tlsmgr.Role) *tls.Config {
		c, err := m.TLSConfig(r)
		require.NoError(t, err)
		return c
	}
	require.Same(t, cfg(tlsmgr.RoleClient), opts.TLSConfig)
	require.True(t, opts.TLS)
	require.True(t, opts.TLSHandshakeFirst)
	require.Equal(t, 2.0, opts.TLSTimeout)
	require.Nil(t, opts.Websocket.TLSConfig)
	require.Same(t, cfg(tlsmgr.RoleMQTT), opts.MQTT.TLSConfig)
	require.Same(t, cfg(tlsmgr.RoleLeafnode), opts.LeafNode.TLSConfig)
	require.Same(t, cfg(tlsmgr.RoleLeafnodeRemote), opts.LeafNode.Remotes[0].TLSConfig)
	require.True(t, opts.LeafNode.Remotes[0].TLS)
	require.Same(t, cfg(tlsmgr.RoleCluster), opts.Cluster.TLSConfig)
	require.True(t, opts.Cluster.TLSCheckKnownURLs)
	require.Same(t, cfg(tlsmgr.RoleGateway), opts.Gateway.TLSConfig)
	require.Same(t, cfg(tlsmgr.RoleGateway), opts.Gateway.Gateways[0].TLSConfig)
	require.True(t, opts.Gateway.TLSCheckKnownURLs)
	require.Equal(t, int32(1234), opts.MaxPayload)
	require.False(t, opts.NoLog, "Apply must not touch non-TLS options")

	exp := natsopts.Expiry(opts, m)
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).NotAfter, exp["client"])
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).NotAfter, exp["https"])
	require.Equal(t, leaf(t, m, tlsmgr.RoleCluster).NotAfter, exp["cluster"])
	require.NotContains(t, exp, "websocket")
	require.Len(t, exp, 8) // client https mqtt leafnode "leafnode remote 0" cluster gateway `gateway remote "B"`
}

// snapshot deep-copies opts and the remote structs it points to.
func snapshot(o *server.Options) server.Options {
	c := *o
	c.LeafNode.Remotes = nil
	for _, r := range o.LeafNode.Remotes {
		rc := *r
		c.LeafNode.Remotes = append(c.LeafNode.Remotes, &rc)
	}
	c.Gateway.Gateways = nil
	for _, g := range o.Gateway.Gateways {
		gc := *g
		c.Gateway.Gateways = append(c.Gateway.Gateways, &gc)
	}
	return c
}

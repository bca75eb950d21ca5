package natsopts

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Apply puts every listener that opts enables on TLS from m. It first runs
// [Check] and changes nothing if Check fails.
//
// For each enabled listener it sets the *tls.Config field to
// m.TLSConfig(role) (the same pointer on every call, so applying twice
// changes nothing and a later ReloadOptions sees no TLS change):
//
//   - client (unless DontListen) and HTTPS monitoring (HTTPSPort != 0):
//     TLSConfig from [tlsmgr.RoleClient]; TLS = true; TLSVerify = whether the
//     role asks for client certificates; TLSTimeout = 2 (seconds) if 0;
//     TLSHandshakeFirst if [HandshakeFirst] is given;
//   - websocket (Websocket.Port != 0 and not Websocket.NoTLS):
//     Websocket.TLSConfig from [tlsmgr.RoleWebsocket];
//   - MQTT (MQTT.Port != 0): MQTT.TLSConfig from [tlsmgr.RoleMQTT];
//   - leafnode accept (LeafNode.Port != 0): LeafNode.TLSConfig from
//     [tlsmgr.RoleLeafnode];
//   - every leafnode remote (LeafNode.Remotes[i]): TLS = true and TLSConfig
//     from [tlsmgr.RoleLeafnodeRemote]; URLs keep their scheme (TLS = true
//     makes nats:// URLs use TLS too);
//   - cluster (Cluster.Port != 0 or Cluster.ListenStr set):
//     Cluster.TLSConfig from [tlsmgr.RoleCluster];
//   - gateway (Gateway.Port != 0): Gateway.TLSConfig and every
//     Gateway.Gateways[i].TLSConfig from [tlsmgr.RoleGateway];
//   - Cluster.TLSCheckKnownURLs and Gateway.TLSCheckKnownURLs if
//     [CheckKnownURLs] is given.
//
// Any config already in those fields is replaced; Check refuses one that
// carries Certificates. Apply touches no other field: disabled listeners,
// websocket with NoTLS, and all non-TLS options stay as they are. It writes
// only fields whose value differs, through the pointers in LeafNode.Remotes
// and Gateway.Gateways.
//
// Apply does not set NoSigs. A program embedding nats-server must set it
// (server.NewServer otherwise installs signal handlers that call os.Exit).
//
// Apply is pure: no I/O, no goroutines. It is not safe to call while
// something else reads or writes opts (such as a server started with opts).
func Apply(opts *server.Options, m *tlsmgr.Manager, options ...Option) error {
	if err := Check(opts, m, options...); err != nil {
		return err
	}
	s := newSettings(options)
	for _, l := range listeners(opts) {
		c, err := m.TLSConfig(l.role)
		if err != nil {
			return fmt.Errorf("natsopts: %s: role %s: %w", l.name, l.role, err)
		}
		set(l.config, c)
	}
	applyClient(opts, s)
	for _, r := range opts.LeafNode.Remotes {
		if r != nil {
			set(&r.TLS, true)
		}
	}
	if v := s.checkKnownURLs; v != nil {
		if clusterEnabled(opts) {
			set(&opts.Cluster.TLSCheckKnownURLs, *v)
		}
		if gatewayEnabled(opts) {
			set(&opts.Gateway.TLSCheckKnownURLs, *v)
		}
	}
	return nil
}

// applyClient sets the client listener's flags next to its config.
func applyClient(opts *server.Options, s settings) {
	if opts.DontListen && opts.HTTPSPort == 0 {
		return
	}
	set(&opts.TLS, true)
	set(&opts.TLSVerify, asksClientCert(opts.TLSConfig))
	if opts.TLSTimeout == 0 {
		opts.TLSTimeout = server.TLS_TIMEOUT.Seconds()
	}
	if v := s.handshakeFirst; v != nil {
		set(&opts.TLSHandshakeFirst, *v)
	}
}

// asksClientCert reports whether c makes clients present a certificate.
func asksClientCert(c *tls.Config) bool {
	return c != nil && (c.ClientAuth == tls.RequireAnyClientCert || c.ClientAuth == tls.RequireAndVerifyClientCert)
}

// set writes v to *p only if it differs, so that applying again writes
// nothing (a server may read shared remote structs concurrently).
func set[T comparable](p *T, v T) {
	if *p != v {
		*p = v
	}
}

// Expiry returns, per enabled listener of opts, when the certificate m
// currently serves it expires (what /varz cannot show: its
// tls_cert_not_after is blank for callback configs). Keys are the listener
// names of [ConfigError.Listener]; a listener whose role has no certificate
// yet is left out. Safe for concurrent use if nothing writes opts.
func Expiry(opts *server.Options, m *tlsmgr.Manager) map[string]time.Time {
	out := make(map[string]time.Time)
	for _, l := range listeners(opts) {
		cert, _, err := m.Current(l.role)
		if err != nil || cert == nil || cert.Leaf == nil {
			continue
		}
		out[l.name] = cert.Leaf.NotAfter
	}
	return out
}

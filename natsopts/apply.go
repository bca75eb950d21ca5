package natsopts

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Apply puts every listener that opts enables on TLS from m, keeping the
// TLS policy the caller (or nats-server's configuration file) set. It first
// runs [Check] and changes nothing if Check fails.
//
// A listener whose *tls.Config brings its own certificate (Certificates,
// GetCertificate or GetClientCertificate, as nats-server sets from
// cert_file/key_file or a certificate store) is not managed: Apply leaves
// it as it is, and [Unmanaged] lists it. Every other enabled listener gets
// m.TLSConfigFor(role, listener, its config): the Manager's certificate
// source under the listener's policy (verify, ca_file, min_version,
// cipher_suites, curve_preferences and the rest; see
// [tlsmgr.Manager.TLSConfigFor]), or m.TLSConfig(role) if it has no config.
// For an equal policy the pointer is the same on every call, so applying
// twice changes nothing and a later ReloadOptions with options parsed
// again from an unchanged file sees no TLS change.
//
// The listeners and the fields Apply writes:
//
//   - client (unless DontListen) and HTTPS monitoring (HTTPSPort != 0):
//     TLSConfig with [tlsmgr.RoleClient]; TLS = true; TLSVerify = whether
//     the config asks for client certificates; TLSTimeout = 2 (seconds) if
//     0; TLSHandshakeFirst if [HandshakeFirst] is given;
//   - websocket (Websocket.Port != 0 and not Websocket.NoTLS):
//     Websocket.TLSConfig with [tlsmgr.RoleWebsocket];
//   - MQTT (MQTT.Port != 0): MQTT.TLSConfig with [tlsmgr.RoleMQTT];
//   - leafnode accept (LeafNode.Port != 0): LeafNode.TLSConfig with
//     [tlsmgr.RoleLeafnode];
//   - every leafnode remote (LeafNode.Remotes[i]): TLS = true and TLSConfig
//     with [tlsmgr.RoleLeafnodeRemote]; URLs keep their scheme (TLS = true
//     makes nats:// URLs use TLS too);
//   - cluster (Cluster.Port != 0 or Cluster.ListenStr set):
//     Cluster.TLSConfig with [tlsmgr.RoleCluster];
//   - gateway (Gateway.Port != 0): Gateway.TLSConfig and every
//     Gateway.Gateways[i].TLSConfig with [tlsmgr.RoleGateway] (a remote
//     without a config of its own gets the gateway's, as nats-server would
//     use);
//   - Cluster.TLSCheckKnownURLs and Gateway.TLSCheckKnownURLs if
//     [CheckKnownURLs] is given.
//
// Apply touches no other field: TLSMap, the pinned certificates, the
// timeouts and handshake_first stay as the caller set them and keep their
// nats-server meaning; disabled listeners, websocket with NoTLS, and all
// non-TLS options stay as they are. It writes only fields whose value
// differs, through the pointers in LeafNode.Remotes and Gateway.Gateways.
//
// Apply does not set NoSigs. A program embedding nats-server must set it
// (server.NewServer otherwise installs signal handlers that call os.Exit).
//
// Apply does no I/O and starts no goroutines; the Manager remembers the
// configs it composed (one per listener). It is not safe to call while
// something else reads or writes opts (such as a server started with opts).
func Apply(opts *server.Options, m *tlsmgr.Manager, options ...Option) error {
	if err := Check(opts, m, options...); err != nil {
		return err
	}
	s := newSettings(options)
	for _, l := range listeners(opts) {
		if !managed(m, l) {
			continue
		}
		c, err := m.TLSConfigFor(l.role, l.name, policyOf(l))
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

// managed reports whether l is served by m: its config brings no
// certificate of its own (and, for a gateway remote without a config, the
// gateway's does not either).
func managed(m *tlsmgr.Manager, l listener) bool {
	return !m.HasOwnCertificate(policyOf(l))
}

// policyOf returns the config l has, or the one nats-server would use for
// it when it has none.
func policyOf(l listener) *tls.Config {
	if *l.config == nil && l.inherit != nil {
		return *l.inherit
	}
	return *l.config
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

// Expiry returns, per enabled listener of opts, when the certificate it
// serves now expires (what /varz cannot show: its tls_cert_not_after is
// blank for callback configs): the one m serves for a managed listener,
// the first of its own Certificates for an unmanaged one. Keys are the
// listener names of [ConfigError.Listener]; a listener without a
// certificate yet (or whose own certificate comes from a callback) is left
// out. Safe for concurrent use if nothing writes opts.
func Expiry(opts *server.Options, m *tlsmgr.Manager) map[string]time.Time {
	out := make(map[string]time.Time)
	for _, l := range listeners(opts) {
		if leaf := servedLeaf(m, l); leaf != nil {
			out[l.name] = leaf.NotAfter
		}
	}
	return out
}

// servedLeaf returns the certificate l serves now, or nil if unknown.
func servedLeaf(m *tlsmgr.Manager, l listener) *x509.Certificate {
	if !managed(m, l) {
		return ownLeaf(policyOf(l))
	}
	cert, _, err := m.Current(l.role)
	if err != nil || cert == nil {
		return nil
	}
	return cert.Leaf
}

// ownLeaf returns the first certificate of c's own Certificates.
func ownLeaf(c *tls.Config) *x509.Certificate {
	if c == nil || len(c.Certificates) == 0 {
		return nil
	}
	if leaf := c.Certificates[0].Leaf; leaf != nil {
		return leaf
	}
	if len(c.Certificates[0].Certificate) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(c.Certificates[0].Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}

// An UnmanagedListener is an enabled listener that serves a certificate of
// its own (cert_file/key_file in nats.conf, --tlscert/--tlskey, or
// Certificates set in code) instead of the Manager's.
type UnmanagedListener struct {
	// Name is the listener's name, as in [ConfigError.Listener].
	Name string
	// Field is the server.Options path of its config.
	Field string
	// Certificate is the first certificate it serves, or nil if it comes
	// from a callback.
	Certificate *x509.Certificate
}

// Unmanaged lists the enabled listeners of opts that m does not serve
// because their config brings its own certificate, in a stable order.
// HTTPS monitoring is listed apart from the client listener although they
// share a config. Safe for concurrent use if nothing writes opts.
func Unmanaged(opts *server.Options, m *tlsmgr.Manager) []UnmanagedListener {
	var out []UnmanagedListener
	for _, l := range listeners(opts) {
		if !managed(m, l) {
			out = append(out, UnmanagedListener{Name: l.name, Field: l.field, Certificate: ownLeaf(policyOf(l))})
		}
	}
	return out
}

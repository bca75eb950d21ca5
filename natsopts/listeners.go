package natsopts

import (
	"crypto/tls"
	"fmt"
	"reflect"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// A listener is one place in server.Options that takes a *tls.Config: a
// listener the server accepts on, or a remote it dials.
type listener struct {
	// name is the listener's name in errors and in Expiry.
	name string
	// field is the server.Options path of the config, e.g. "MQTT.TLSConfig".
	field string
	// role is the Manager role whose config it gets.
	role tlsmgr.Role
	// config points at the *tls.Config field.
	config **tls.Config
	// timeout points at the TLSTimeout field (seconds), or is nil.
	timeout *float64
	// timeoutField is the path of timeout.
	timeoutField string
	// tlsMap is the TLSMap setting of the listener (false if it has none).
	tlsMap bool
	// prefix is the path prefix of the listener's other fields.
	prefix string
	// conf is the path of the listener's tls block in nats.conf, such as
	// "leafnodes.remotes[0].tls".
	conf string
	// inherit, if not nil, is the config nats-server uses when *config is
	// nil (a gateway remote uses the gateway's).
	inherit **tls.Config
	// ocspPeer is whether the tls block parsed from a configuration file
	// asks for OCSP peer checks (ocsp_peer), which nats-server plugs into
	// the config's VerifyConnection.
	ocspPeer bool
}

// listeners returns the listeners that opts enables, in a stable order.
// Disabled listeners are not listed, so Apply leaves them alone.
func listeners(opts *server.Options) []listener {
	var ls []listener
	if !opts.DontListen {
		ls = append(ls, listener{name: "client", field: "TLSConfig", role: tlsmgr.RoleClient,
			config: &opts.TLSConfig, timeout: &opts.TLSTimeout, timeoutField: "TLSTimeout", tlsMap: opts.TLSMap, conf: "tls"})
	}
	if opts.HTTPSPort != 0 {
		// HTTPS monitoring has no config of its own: it serves opts.TLSConfig.
		ls = append(ls, listener{name: "https", field: "TLSConfig", role: tlsmgr.RoleClient, config: &opts.TLSConfig, conf: "tls"})
	}
	if ws := &opts.Websocket; ws.Port != 0 && !ws.NoTLS {
		ls = append(ls, listener{name: "websocket", field: "Websocket.TLSConfig", role: tlsmgr.RoleWebsocket,
			config: &ws.TLSConfig, tlsMap: ws.TLSMap, prefix: "Websocket.", conf: "websocket.tls"})
	}
	if mq := &opts.MQTT; mq.Port != 0 {
		ls = append(ls, listener{name: "mqtt", field: "MQTT.TLSConfig", role: tlsmgr.RoleMQTT,
			config: &mq.TLSConfig, timeout: &mq.TLSTimeout, timeoutField: "MQTT.TLSTimeout", tlsMap: mq.TLSMap, prefix: "MQTT.", conf: "mqtt.tls"})
	}
	if ln := &opts.LeafNode; ln.Port != 0 {
		ls = append(ls, listener{name: "leafnode", field: "LeafNode.TLSConfig", role: tlsmgr.RoleLeafnode,
			config: &ln.TLSConfig, timeout: &ln.TLSTimeout, timeoutField: "LeafNode.TLSTimeout", tlsMap: ln.TLSMap, prefix: "LeafNode.", conf: "leafnodes.tls"})
	}
	for i, r := range opts.LeafNode.Remotes {
		if r == nil {
			continue
		}
		p := fmt.Sprintf("LeafNode.Remotes[%d].", i)
		ls = append(ls, listener{name: fmt.Sprintf("leafnode remote %d", i), field: p + "TLSConfig", role: tlsmgr.RoleLeafnodeRemote,
			config: &r.TLSConfig, timeout: &r.TLSTimeout, timeoutField: p + "TLSTimeout", prefix: p, conf: fmt.Sprintf("leafnodes.remotes[%d].tls", i), ocspPeer: ocspPeer(r)})
	}
	if clusterEnabled(opts) {
		c := &opts.Cluster
		ls = append(ls, listener{name: "cluster", field: "Cluster.TLSConfig", role: tlsmgr.RoleCluster,
			config: &c.TLSConfig, timeout: &c.TLSTimeout, timeoutField: "Cluster.TLSTimeout", prefix: "Cluster.", conf: "cluster.tls"})
	}
	if gatewayEnabled(opts) {
		g := &opts.Gateway
		ls = append(ls, listener{name: "gateway", field: "Gateway.TLSConfig", role: tlsmgr.RoleGateway,
			config: &g.TLSConfig, timeout: &g.TLSTimeout, timeoutField: "Gateway.TLSTimeout", prefix: "Gateway.", conf: "gateway.tls"})
		for i, r := range g.Gateways {
			if r == nil {
				continue
			}
			p := fmt.Sprintf("Gateway.Gateways[%d].", i)
			ls = append(ls, listener{name: fmt.Sprintf("gateway remote %q", r.Name), field: p + "TLSConfig", role: tlsmgr.RoleGateway,
				config: &r.TLSConfig, timeout: &r.TLSTimeout, timeoutField: p + "TLSTimeout", prefix: p,
				conf: fmt.Sprintf("gateway.gateways[%d].tls", i), inherit: &g.TLSConfig})
		}
	}
	return ls
}

// clusterEnabled reports whether opts enables the route listener.
func clusterEnabled(opts *server.Options) bool {
	return opts.Cluster.Port != 0 || opts.Cluster.ListenStr != ""
}

// gatewayEnabled reports whether opts enables gateways.
func gatewayEnabled(opts *server.Options) bool {
	return opts.Gateway.Port != 0
}

// confKey returns the nats.conf path of a setting of l's tls block.
func (l listener) confKey(key string) string {
	return l.conf + "." + key
}

// clusterManaged reports whether the cluster is enabled and served by m.
func clusterManaged(opts *server.Options, m *tlsmgr.Manager) bool {
	return clusterEnabled(opts) && !m.HasOwnCertificate(opts.Cluster.TLSConfig)
}

// gatewayManaged reports whether gateways are enabled and served by m.
func gatewayManaged(opts *server.Options, m *tlsmgr.Manager) bool {
	return gatewayEnabled(opts) && !m.HasOwnCertificate(opts.Gateway.TLSConfig)
}

// ocspPeer reports whether v (a pointer to a struct of server.Options
// parsed from a configuration file) has a tls block with ocsp_peer on.
// nats-server keeps the parsed block in the unexported field
// tlsConfigOpts; reflection reads it without changing anything.
func ocspPeer(v any) bool {
	f := reflect.ValueOf(v).Elem().FieldByName("tlsConfigOpts")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return false
	}
	pc := f.Elem().FieldByName("OCSPPeerConfig")
	if !pc.IsValid() || pc.Kind() != reflect.Pointer || pc.IsNil() {
		return false
	}
	verify := pc.Elem().FieldByName("Verify")
	return verify.IsValid() && verify.Kind() == reflect.Bool && verify.Bool()
}

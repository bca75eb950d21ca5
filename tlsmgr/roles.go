package tlsmgr

import "fmt"

// A Role is the part a TLS listener or dialer plays in a NATS server. Each
// role has its own *tls.Config (see [Manager.TLSConfig]), its own set of
// names and its own issuer; roles that share names and issuer share one
// certificate.
type Role string

// The roles of a NATS server. HTTPS monitoring has no role of its own: the
// server serves it with the client listener's configuration.
const (
	// RoleClient is the client listener (port 4222) and HTTPS monitoring.
	RoleClient Role = "client"
	// RoleWebsocket is the websocket listener.
	RoleWebsocket Role = "websocket"
	// RoleMQTT is the MQTT listener.
	RoleMQTT Role = "mqtt"
	// RoleLeafnode is the leafnode accept listener (a hub).
	RoleLeafnode Role = "leafnode"
	// RoleLeafnodeRemote is a leafnode remote: this server dials a hub as a
	// TLS client and presents its certificate when the hub verifies.
	RoleLeafnodeRemote Role = "leafnode-remote"
	// RoleCluster is the cluster route listener and the routes it dials;
	// always mutual TLS.
	RoleCluster Role = "cluster"
	// RoleGateway is the gateway listener and the gateways it dials; always
	// mutual TLS.
	RoleGateway Role = "gateway"
)

// Roles lists every role in a stable order.
func Roles() []Role {
	return []Role{RoleClient, RoleWebsocket, RoleMQTT, RoleLeafnode, RoleLeafnodeRemote, RoleCluster, RoleGateway}
}

// Public reports whether the role is reached by clients that trust public
// CAs (client, websocket, MQTT, leafnode accept). Public roles default to
// [Config.Issuer]; the others default to the private CA, because their
// certificates need the clientAuth usage that public CAs no longer issue.
func (r Role) Public() bool {
	switch r {
	case RoleClient, RoleWebsocket, RoleMQTT, RoleLeafnode:
		return true
	}
	return false
}

// Dials reports whether the server uses the role's certificate as a TLS
// client (routes, gateways and leafnode remotes dial their peers).
func (r Role) Dials() bool {
	switch r {
	case RoleLeafnodeRemote, RoleCluster, RoleGateway:
		return true
	}
	return false
}

// Mutual reports whether the role always runs mutual TLS: both ends present
// a certificate and verify the other's against the private CA's bundle.
func (r Role) Mutual() bool { return r == RoleCluster || r == RoleGateway }

// Valid reports whether r is one of the roles listed by [Roles].
func (r Role) Valid() bool {
	for _, x := range Roles() {
		if x == r {
			return true
		}
	}
	return false
}

// String returns the role's name, as used in logs, errors and storage keys.
func (r Role) String() string { return string(r) }

func (r Role) check() error {
	if !r.Valid() {
		return fmt.Errorf("tlsmgr: unknown role %q: use one of %v", string(r), Roles())
	}
	return nil
}

package natsopts

import (
	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// A ManagedListener is an enabled listener, or outbound connection, whose
// certificate m serves.
type ManagedListener struct {
	// Name is the listener's name, as in [ConfigError.Listener].
	Name string
	// Role is the role whose certificate it serves.
	Role tlsmgr.Role
}

// Managed lists the enabled listeners of opts that m serves (those
// [Unmanaged] does not list), in a stable order; a health check walks them
// to know what must be served. Safe for concurrent use if nothing writes
// opts.
func Managed(opts *server.Options, m *tlsmgr.Manager) []ManagedListener {
	var out []ManagedListener
	for _, l := range listeners(opts) {
		if managed(m, l) {
			out = append(out, ManagedListener{Name: l.name, Role: l.role})
		}
	}
	return out
}

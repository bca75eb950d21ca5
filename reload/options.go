package reload

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Options applies newOpts to the running server s: it puts them on m's TLS
// with [natsopts.Apply] and calls s.ReloadOptions(newOpts). Use it for
// changes that certificate callbacks cannot carry: a new listener, a new
// leafnode remote or gateway, any non-TLS option. Certificate renewals need
// no reload at all.
//
// Build newOpts as a fresh copy (for example with Options.Clone of the
// options the server was started with, or server.ProcessConfigFile of the
// same file): Apply puts back the Manager's own *tls.Config pointers, the
// same for a listener whose TLS policy (verify, ca_file, min_version, ...)
// is unchanged, so ReloadOptions sees no TLS change and existing
// connections stay up. A listener whose policy changed gets a new config,
// which nats-server applies to new connections. Options never calls s.Reload, which re-reads the
// config file and would drop TLS configured in code.
//
// Every reload re-checks the authorization of every connected client, which
// costs milliseconds with thousands of clients. ctx is checked before the
// reload starts; ReloadOptions itself cannot be cancelled.
func Options(ctx context.Context, s *server.Server, newOpts *server.Options, m *tlsmgr.Manager, options ...natsopts.Option) error {
	if s == nil || newOpts == nil || m == nil {
		return errors.New("reload: options: s, newOpts and m must not be nil")
	}
	if err := natsopts.Apply(newOpts, m, options...); err != nil {
		return fmt.Errorf("reload: options: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reload: options: %w", err)
	}
	if err := s.ReloadOptions(newOpts); err != nil {
		return fmt.Errorf("reload: options: %w", err)
	}
	return nil
}

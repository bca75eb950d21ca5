package acmetest

import (
	"testing"
	"time"

	"github.com/nats-autotls/autotls/acme"
)

// DNS01 returns a DNS-01 solver configuration for the acme package that
// writes through p (usually c.DNS.Provider()) and checks propagation on the
// harness's DNS server only, polling fast.
func (c *CA) DNS01(p acme.LibDNSProvider) *acme.DNS01 {
	return &acme.DNS01{
		Provider:               p,
		Resolvers:              []string{c.DNS.Addr()},
		SkipAuthoritativeCheck: true,
		PollingInterval:        10 * time.Millisecond,
		PropagationTimeout:     5 * time.Second,
	}
}

// AcmeConfig returns an acme.Config for this CA: its directory and HTTPS
// client, its issuance roots as CARoots, the terms agreed, DNS-01 through
// the harness's DNS server, and the account kept in storage (nil: a new
// account per Issuer).
func (c *CA) AcmeConfig(tb testing.TB, storage acme.Storage) acme.Config {
	tb.Helper()
	return acme.Config{
		DirectoryURL: c.DirectoryURL,
		AgreeTOS:     true,
		HTTPClient:   c.HTTPClient,
		CARoots:      c.Roots(tb),
		Storage:      storage,
		DNS01:        c.DNS01(c.DNS.Provider()),
	}
}

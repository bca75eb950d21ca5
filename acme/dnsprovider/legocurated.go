//go:build !autotls_alldns

package dnsprovider

import "github.com/nats-autotls/autotls/acme"

// legoRegistry is nil in the default build: only the curated providers
// exist.
func legoRegistry() func(string) (acme.LegoProvider, error) { return nil }

//go:build autotls_alldns

package dnsprovider

import (
	legodns "github.com/go-acme/lego/v4/providers/dns"

	"github.com/nats-autotls/autotls/acme"
)

// legoRegistry opens any provider of lego's registry from lego's
// environment variables (and their _FILE forms), as lego documents.
func legoRegistry() func(string) (acme.LegoProvider, error) {
	return func(name string) (acme.LegoProvider, error) {
		return wrap(legodns.NewDNSChallengeProviderByName(name))
	}
}

package acme_test

import (
	"fmt"
	"testing"

	"github.com/nats-autotls/autotls/internal/acmetest"
)

// BenchmarkObtain measures one complete order (new key, order, DNS-01
// authorizations through the libdns adapter, finalize, download) against
// the in-process Pebble. The account is registered before the timer.
func BenchmarkObtain(b *testing.B) {
	ca := acmetest.New(b, acmetest.Options{})
	iss := newIssuer(b, baseConfig(b, ca))
	mustObtain(b, iss, uniqueName(b))
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("names=%d", n), func(b *testing.B) {
			for b.Loop() {
				base := uniqueName(b)
				names := []string{base, "*." + base}[:n]
				mustObtain(b, iss, names...)
			}
		})
	}
}

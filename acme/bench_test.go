package acme_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/libdns/libdns"

	"github.com/nats-autotls/autotls/acme"
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

// BenchmarkObtainChallenge compares one order for a name and its wildcard
// over dns-01 (two TXT writes, a propagation check, two deletes) with the
// same order over dns-persist-01 (the record published once, before the
// timer), in the same run.
func BenchmarkObtainChallenge(b *testing.B) {
	ca := acmetest.New(b, acmetest.Options{})
	dns01 := newIssuer(b, baseConfig(b, ca))
	pcfg := baseConfig(b, ca)
	pcfg.DNS01 = nil
	pcfg.DNSPersist01 = &acme.DNSPersist01{Resolvers: []string{ca.DNS.Addr()}}
	persist := newIssuer(b, pcfg)
	base := uniqueName(b)
	names := []string{base, "*." + base}
	mustObtain(b, dns01, names...)
	recs, err := persist.PersistRecords(context.Background(), names)
	if err != nil {
		b.Fatal(err)
	}
	rel := strings.TrimSuffix(recs[0].Name, ".example.test.")
	if _, err := ca.DNS.Provider().AppendRecords(context.Background(), "example.test.", []libdns.Record{libdns.TXT{Name: rel, Text: recs[0].Value}}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		iss  *acme.Issuer
	}{{"dns-01", dns01}, {"dns-persist-01", persist}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				mustObtain(b, c.iss, names...)
			}
		})
	}
}

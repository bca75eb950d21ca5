package acme_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
)

// persistConfig returns a configuration with dns-persist-01 only: no DNS
// provider at all.
func persistConfig(t *testing.T, ca *acmetest.CA) acme.Config {
	t.Helper()
	cfg := baseConfig(t, ca)
	cfg.DNS01 = nil
	cfg.DNSPersist01 = &acme.DNSPersist01{Resolvers: []string{ca.DNS.Addr()}}
	return cfg
}

// publish adds the TXT record rec to the test DNS server, as an operator
// does once by hand.
func publish(t *testing.T, ca *acmetest.CA, name, value string) {
	t.Helper()
	rel := strings.TrimSuffix(strings.TrimSuffix(name, "."), ".example.test")
	_, err := ca.DNS.Provider().AppendRecords(context.Background(), "example.test.",
		[]libdns.Record{libdns.TXT{Name: rel, TTL: time.Minute, Text: value}})
	require.NoError(t, err)
}

func TestDNSPersist01IssuesNameAndWildcardWithoutDNSWrites(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, persistConfig(t, ca))
	name := uniqueName(t)
	names := []string{name, "*." + name}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	recs, err := iss.PersistRecords(ctx, names)
	require.NoError(t, err)
	require.Len(t, recs, 1, "a name and its wildcard share one record")
	rec := recs[0]
	require.Equal(t, "_validation-persist."+name+".", rec.Name)
	require.Equal(t, "pebble.letsencrypt.org; accounturi="+iss.AccountURL()+"; policy=wildcard", rec.Value)
	require.Contains(t, rec.String(), `IN TXT "pebble.letsencrypt.org; accounturi=`)
	publish(t, ca, rec.Name, rec.Value)

	appends, deletes := ca.DNS.Provider().Calls()
	cert := mustObtain(t, iss, names...)
	verifyChain(t, ca, cert, name)
	verifyChain(t, ca, cert, "x."+name)
	// A second order (a renewal) reuses the record too.
	mustObtain(t, iss, names...)
	a2, d2 := ca.DNS.Provider().Calls()
	require.Equal(t, appends, a2, "no DNS record written during the orders")
	require.Equal(t, deletes, d2, "no DNS record deleted during the orders")
	require.Empty(t, ca.DNS.TXT("_acme-challenge."+name), "no dns-01 record")
}

func TestDNSPersist01RefusesAMismatchNamingTheRecord(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	cases := []struct {
		name   string
		value  func(acct string) string
		detail string
	}{
		{"wrong accounturi", func(string) string {
			return "pebble.letsencrypt.org; accounturi=https://ca.invalid/acct/1"
		}, "accounturi is not this account's"},
		{"expired persistUntil", func(acct string) string {
			return "pebble.letsencrypt.org; accounturi=" + acct + "; policy=wildcard; persistUntil=1000"
		}, "persistUntil 1970-01-01T00:16:40Z has passed"},
		{"no wildcard policy", func(acct string) string {
			return "pebble.letsencrypt.org; accounturi=" + acct
		}, "no policy=wildcard"},
		{"not published", nil, "no TXT record published"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iss := newIssuer(t, persistConfig(t, ca))
			name := uniqueName(t)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			recs, err := iss.PersistRecords(ctx, []string{name, "*." + name})
			require.NoError(t, err)
			if tc.value != nil {
				publish(t, ca, recs[0].Name, tc.value(iss.AccountURL()))
			}
			orders := ca.Orders()
			_, err = obtain(t, iss, name, "*."+name)
			require.Error(t, err)
			var ve *acme.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, err.Error(), recs[0].Name, "the error names the record")
			require.Contains(t, err.Error(), tc.detail)
			require.Contains(t, err.Error(), recs[0].Value, "the error gives the value to publish")
			require.Equal(t, orders, ca.Orders(), "no order placed after a failed check")
		})
	}
}

func TestDNSPersist01CARefusalNamesTheRecord(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	cfg := persistConfig(t, ca)
	cfg.DNSPersist01.SkipCheck = true
	iss := newIssuer(t, cfg)
	name := uniqueName(t)
	publish(t, ca, "_validation-persist."+name+".", "pebble.letsencrypt.org; accounturi=https://ca.invalid/acct/1")
	_, err := obtain(t, iss, name)
	var ve *acme.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, err.Error(), "_validation-persist."+name)
	require.Contains(t, err.Error(), "accounturi mismatch")
}

func TestDNSPersist01RefusesIPAddresses(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, persistConfig(t, ca))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err := iss.PersistRecords(ctx, []string{"192.0.2.1"})
	var ce *acme.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Contains(t, err.Error(), "HTTP01")
}

func TestIPAddressWithoutHTTP01IsRefusedBeforeOrdering(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, baseConfig(t, ca)) // DNS-01 only
	_, err := obtain(t, iss, "127.0.0.1")
	var ce *acme.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "HTTP01", ce.Field)
	require.Contains(t, err.Error(), "127.0.0.1")
	require.Zero(t, ca.Orders())
}

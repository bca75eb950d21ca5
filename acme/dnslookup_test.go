package acme

import (
	"context"
	"net"
	"testing"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/dnstest"
)

// The Issuer's own lookups against a real DNS server: zones, CNAME
// delegation, and propagation on the recursive resolvers and on the
// zone's authoritative servers (found by NS and glue, asked without
// recursion).
func TestResolver(t *testing.T) {
	srv, err := dnstest.Start("zone.test.", "other.test.")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	_, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	r := &resolver{servers: []string{srv.Addr()}, authPort: port}
	ctx, b := context.Background(), newBudget(0)

	zone, err := r.findZone(ctx, b, "_acme-challenge.a.b.zone.test.")
	require.NoError(t, err)
	require.Equal(t, "zone.test.", zone)
	_, err = r.findZone(ctx, b, "_acme-challenge.nowhere.invalid.")
	require.Error(t, err)

	srv.SetCNAME("_acme-challenge.x.zone.test.", "x.other.test.")
	require.Equal(t, "x.other.test.", r.followCNAMEs(ctx, b, "_acme-challenge.x.zone.test."))
	require.Equal(t, "_acme-challenge.y.zone.test.", r.followCNAMEs(ctx, b, "_acme-challenge.y.zone.test."))
	fqdn, value := r.challengeRecord(ctx, b, "x.zone.test", "token.thumbprint")
	require.Equal(t, "x.other.test.", fqdn)

	for _, authoritative := range []bool{false, true} {
		ok, err := r.propagated(ctx, b, fqdn, value, authoritative)
		require.NoError(t, err)
		require.False(t, ok, "not written yet (authoritative %t)", authoritative)
	}
	_, err = srv.Provider().AppendRecords(ctx, "other.test.", []libdns.Record{libdns.TXT{Name: "x", Text: value}})
	require.NoError(t, err)
	for _, authoritative := range []bool{false, true} {
		ok, err := r.propagated(ctx, b, fqdn, value, authoritative)
		require.NoError(t, err)
		require.True(t, ok, "written (authoritative %t)", authoritative)
	}
}

package kvstorage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// TestFleetRenewsOverDNSPersist01WithoutDNSCredentials: three Managers
// share one ACME account through the bucket. The operator publishes the
// dns-persist-01 record that PersistRecords prints, once; after that every
// node orders and renews with no DNS provider configured anywhere, and the
// DNS server sees no write.
func TestFleetRenewsOverDNSPersist01WithoutDNSCredentials(t *testing.T) {
	srv := startServer(t)
	ca := acmetest.New(t, acmetest.Options{})
	name := fmt.Sprintf("persist-%d.example.test", time.Now().UnixNano())
	names := []string{name, "*." + name}
	newIssuer := func(storage tlsmgr.Storage) *acme.Issuer {
		cfg := ca.AcmeConfig(t, storage)
		cfg.DNS01 = nil // no DNS credentials
		cfg.DNSPersist01 = &acme.DNSPersist01{Resolvers: []string{ca.DNS.Addr()}}
		iss, err := acme.New(cfg)
		require.NoError(t, err)
		return iss
	}

	// Once, by the operator: register the fleet's account and publish.
	admin, _ := newStorage(t, srv, kvstorage.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := newIssuer(admin).PersistRecords(ctx, names)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	rel := strings.TrimSuffix(recs[0].Name, ".example.test.")
	_, err = ca.DNS.Provider().AppendRecords(ctx, "example.test.", []libdns.Record{libdns.TXT{Name: rel, TTL: time.Hour, Text: recs[0].Value}})
	require.NoError(t, err)
	writes, deletes := ca.DNS.Provider().Calls()

	managers := make([]*tlsmgr.Manager, 3)
	for i := range managers {
		storage, _ := newStorage(t, srv, kvstorage.Config{})
		m, err := tlsmgr.New(tlsmgr.Config{Names: names, Storage: storage, Issuer: newIssuer(storage)})
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		managers[i] = m
	}
	startAll(t, managers)
	require.Equal(t, 1, ca.Orders(), "one order for the fleet")
	for i, m := range managers {
		require.NoError(t, m.Renew(ctx, tlsmgr.RoleClient), "manager %d renews", i)
	}
	// (A node that has not yet adopted the previous renewal sends a stale
	// replaces, which the CA refuses once: two newOrder requests.)
	require.GreaterOrEqual(t, ca.Orders(), 1+len(managers))
	w, d := ca.DNS.Provider().Calls()
	require.Equal(t, writes, w, "no DNS write by any node")
	require.Equal(t, deletes, d)
	require.Equal(t, 1, ca.NewAccounts(), "one account for the fleet")
}

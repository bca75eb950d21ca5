package health_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/fakeclock"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/health"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// flakyIssuer is a private CA under its own issuer key that fails while
// fail is set.
type flakyIssuer struct {
	*privateca.CA
	fail atomic.Bool
}

func (f *flakyIssuer) IssuerKey() string { return "public-ca" }

func (f *flakyIssuer) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	if f.fail.Load() {
		return nil, errors.New("the CA is down")
	}
	return f.CA.Issue(ctx, key, names, replaces)
}

func newManager(t *testing.T, background, failing bool) (*tlsmgr.Manager, *flakyIssuer, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	ca, err := privateca.New(privateca.Config{Now: clock.Now}) // leaves valid 7 days
	require.NoError(t, err)
	iss := &flakyIssuer{CA: ca}
	iss.fail.Store(failing)
	m, err := tlsmgr.New(tlsmgr.Config{Issuer: iss, Storage: tlsmgr.NewMemoryStorage(), Clock: clock, StartInBackground: background})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	require.NoError(t, m.Start(ctx))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m, iss, clock
}

var clientTarget = []health.Target{{Name: "client", Role: tlsmgr.RoleClient}, {Name: "cluster", Role: tlsmgr.RoleCluster}}

// The served certificate enters the margin while renewals fail: unhealthy,
// with the reason; after a renewal: healthy again.
func TestMarginThenRenewal(t *testing.T) {
	m, iss, clock := newManager(t, false, false)
	rep := health.Check(m, clientTarget, clock.Now(), health.DefaultMargin)
	require.True(t, rep.Healthy, "%+v", rep)
	require.Equal(t, 2, rep.Checked)

	iss.fail.Store(true)
	_, clusterReplaced, err := m.Current(tlsmgr.RoleCluster)
	require.NoError(t, err)
	clock.Advance(6*24*time.Hour + 12*time.Hour) // 12h left on a 7-day certificate
	select {
	case <-clusterReplaced: // the private CA renewed the cluster's certificate
	case <-time.After(20 * time.Second):
		t.Fatal("the cluster certificate was not renewed")
	}
	rep = health.Check(m, clientTarget, clock.Now(), health.DefaultMargin)
	require.False(t, rep.Healthy)
	require.Len(t, rep.Problems, 1, "the cluster certificate's own CA renewed it: %+v", rep)
	require.Equal(t, "client", rep.Problems[0].Listener)
	require.Contains(t, rep.Reason, "within the margin of 24h0m0s")

	iss.fail.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, m.Renew(ctx, tlsmgr.RoleClient))
	rep = health.Check(m, clientTarget, clock.Now(), health.DefaultMargin)
	require.True(t, rep.Healthy, "%+v", rep)
}

// A public listener without its first certificate is unhealthy and says
// why the order fails.
func TestNoCertificateYet(t *testing.T) {
	m, _, clock := newManager(t, true, true)
	var rep health.Report
	require.Eventually(t, func() bool {
		rep = health.Check(m, clientTarget, clock.Now(), health.DefaultMargin)
		return len(rep.Problems) == 1 && rep.Problems[0].Listener == "client" &&
			len(m.Status()) > 0 && m.Status()[0].Failures > 0
	}, 20*time.Second, 5*time.Millisecond)
	rep = health.Check(m, clientTarget, clock.Now(), health.DefaultMargin)
	require.False(t, rep.Healthy)
	require.Contains(t, rep.Reason, "no certificate yet")
	require.Contains(t, rep.Reason, "the CA is down")
}

// fakeSource serves fixed statuses.
type fakeSource struct {
	st  []tlsmgr.CertStatus
	iss string
}

func (f fakeSource) Status() []tlsmgr.CertStatus { return f.st }

func (f fakeSource) IssuerFor(tlsmgr.Role) tlsmgr.Issuer { return keyOnly(f.iss) }

type keyOnly string

func (k keyOnly) IssuerKey() string { return string(k) }

func (k keyOnly) Issue(context.Context, crypto.Signer, []string, *x509.Certificate) ([][]byte, error) {
	return nil, errors.New("not an issuer")
}

func TestCheckCases(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	good := tlsmgr.CertStatus{Roles: []tlsmgr.Role{tlsmgr.RoleClient}, Issuer: "acme", Served: true,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour)}
	with := func(f func(*tlsmgr.CertStatus)) []tlsmgr.CertStatus {
		cs := good
		f(&cs)
		return []tlsmgr.CertStatus{cs}
	}
	for name, tc := range map[string]struct {
		st   []tlsmgr.CertStatus
		want string // "" means healthy
	}{
		"healthy":       {[]tlsmgr.CertStatus{good}, ""},
		"no role":       {nil, "no certificate is managed"},
		"not served":    {with(func(cs *tlsmgr.CertStatus) { cs.Served = false }), "no certificate yet"},
		"other issuer":  {with(func(cs *tlsmgr.CertStatus) { cs.Issuer = "privateca-x" }), "serves a certificate from privateca-x"},
		"expired":       {with(func(cs *tlsmgr.CertStatus) { cs.NotAfter = now.Add(-time.Minute) }), "expired at"},
		"in margin":     {with(func(cs *tlsmgr.CertStatus) { cs.NotAfter = now.Add(time.Hour) }), "within the margin"},
		"not yet valid": {with(func(cs *tlsmgr.CertStatus) { cs.NotBefore = now.Add(time.Hour) }), "not valid before"},
		"last error": {with(func(cs *tlsmgr.CertStatus) {
			cs.NotAfter, cs.LastError, cs.Failures = now.Add(time.Hour), "rate limited", 3
		}), "last error (3 consecutive failures): rate limited"},
	} {
		t.Run(name, func(t *testing.T) {
			rep := health.Check(fakeSource{st: tc.st, iss: "acme"}, []health.Target{{Name: "client", Role: tlsmgr.RoleClient}}, now, health.DefaultMargin)
			if tc.want == "" {
				require.True(t, rep.Healthy, "%+v", rep)
				return
			}
			require.False(t, rep.Healthy)
			require.Contains(t, rep.Reason, tc.want)
		})
	}
}

package metrics_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/fakeclock"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/metrics"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// flakyIssuer is a private CA under another issuer key that fails while
// fail is set.
type flakyIssuer struct {
	*privateca.CA
	fail atomic.Bool
}

func (f *flakyIssuer) IssuerKey() string { return "flaky" }

func (f *flakyIssuer) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	if f.fail.Load() {
		return nil, errors.New("the CA said no")
	}
	return f.CA.Issue(ctx, key, names, replaces)
}

// setup starts a Manager on a fake clock whose public roles come from a
// flaky issuer, with a Collector registered on a fresh registry.
func setup(t *testing.T) (*tlsmgr.Manager, *flakyIssuer, *prometheus.Registry, *metrics.Collector) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	ca, err := privateca.New(privateca.Config{Now: clock.Now})
	require.NoError(t, err)
	iss := &flakyIssuer{CA: ca}
	col := metrics.New(metrics.Config{})
	m, err := tlsmgr.New(tlsmgr.Config{
		Issuer:  iss,
		Storage: col.Storage(tlsmgr.NewMemoryStorage()),
		Clock:   clock,
		OnEvent: col.Observe,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	require.NoError(t, m.Start(ctx))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	col.SetSource(m)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(col))
	return m, iss, reg, col
}

// value returns the value of the metric name whose labels include want,
// and whether there is one.
func value(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, want) {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
			n++
		}
	}
	return n == len(want)
}

func TestGaugesMatchServedCertificates(t *testing.T) {
	m, _, reg, _ := setup(t)
	for _, role := range tlsmgr.Roles() {
		cert, _, err := m.Current(role)
		require.NoError(t, err)
		var cs tlsmgr.CertStatus
		for _, s := range m.Status() {
			for _, r := range s.Roles {
				if r == role {
					cs = s
				}
			}
		}
		lbl := map[string]string{"roles": joinRoles(cs.Roles), "issuer": cs.Issuer, "name": cs.Names[0]}
		got, ok := value(t, reg, "nats_autotls_certificate_expiration_timestamp_seconds", lbl)
		require.True(t, ok, "expiry of %s", role)
		require.Equal(t, float64(cert.Leaf.NotAfter.Unix()), got, "role %s", role)
		got, _ = value(t, reg, "nats_autotls_certificate_not_before_timestamp_seconds", lbl)
		require.Equal(t, float64(cert.Leaf.NotBefore.Unix()), got)
		got, _ = value(t, reg, "nats_autotls_certificate_served", lbl)
		require.Equal(t, 1.0, got)
		got, _ = value(t, reg, "nats_autotls_certificate_renewal_timestamp_seconds", lbl)
		require.Equal(t, float64(cs.NextRenewal.UnixNano())/1e9, got)
		_, ok = value(t, reg, "nats_autotls_certificate_last_success_timestamp_seconds", lbl)
		require.True(t, ok)
	}
	ca := m.CACertificate()
	require.NotNil(t, ca)
	got, ok := value(t, reg, "nats_autotls_private_ca_expiration_timestamp_seconds", nil)
	require.True(t, ok)
	require.Equal(t, float64(ca.NotAfter.Unix()), got)
}

func joinRoles(rs []tlsmgr.Role) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += ","
		}
		out += string(r)
	}
	return out
}

func TestCountersFollowRenewalsAndFailures(t *testing.T) {
	m, iss, reg, _ := setup(t)
	var cs tlsmgr.CertStatus
	for _, s := range m.Status() {
		if s.Issuer == "flaky" {
			cs = s
		}
	}
	lbl := map[string]string{"roles": joinRoles(cs.Roles), "issuer": "flaky"}
	orders := func() float64 { v, _ := value(t, reg, "nats_autotls_orders_total", lbl); return v }
	before := orders()
	require.Equal(t, 1.0, before, "the first certificate was one order")

	ctx := context.Background()
	require.NoError(t, m.Renew(ctx, tlsmgr.RoleClient))
	require.Equal(t, before+1, orders())
	renewals, _ := value(t, reg, "nats_autotls_renewals_total", lbl)
	require.Equal(t, 1.0, renewals)
	n, _ := value(t, reg, "nats_autotls_order_duration_seconds", map[string]string{"issuer": "flaky", "result": "success"})
	require.Equal(t, 2.0, n, "both orders were timed")

	iss.fail.Store(true)
	require.Error(t, m.Renew(ctx, tlsmgr.RoleClient))
	failed, ok := value(t, reg, "nats_autotls_failures_total", map[string]string{"roles": lbl["roles"], "reason": metrics.ReasonIssuer})
	require.True(t, ok)
	require.Equal(t, 1.0, failed)
	consecutive, _ := value(t, reg, "nats_autotls_certificate_consecutive_failures", lbl)
	require.Equal(t, 1.0, consecutive)
	n, _ = value(t, reg, "nats_autotls_order_duration_seconds", map[string]string{"issuer": "flaky", "result": "failure"})
	require.Equal(t, 1.0, n)
}

func TestLockWaitsAreCounted(t *testing.T) {
	var ticks atomic.Int64
	start := time.Unix(0, 0)
	col := metrics.New(metrics.Config{Now: func() time.Time {
		return start.Add(time.Duration(ticks.Add(1)) * 2 * time.Second) // every Lock appears to take 2s
	}})
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(col))
	s := col.Storage(tlsmgr.NewMemoryStorage())
	ctx := context.Background()
	require.NoError(t, s.Lock(ctx, "a"))
	require.NoError(t, s.Unlock(ctx, "a"))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.NoError(t, s.Lock(ctx, "b"))
	require.Error(t, s.Lock(cancelled, "b"), "b is held")

	waits, _ := value(t, reg, "nats_autotls_lock_waits_total", nil)
	require.Equal(t, 2.0, waits)
	fails, _ := value(t, reg, "nats_autotls_lock_failures_total", nil)
	require.Equal(t, 1.0, fails)
	n, _ := value(t, reg, "nats_autotls_lock_wait_seconds", nil)
	require.Equal(t, 2.0, n)
}

func TestListenerExpiryAndRotation(t *testing.T) {
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	col := metrics.New(metrics.Config{Listeners: func() map[string]time.Time { return map[string]time.Time{"client": exp} }})
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(col))
	got, ok := value(t, reg, "nats_autotls_listener_expiration_timestamp_seconds", map[string]string{"listener": "client"})
	require.True(t, ok)
	require.Equal(t, float64(exp.Unix()), got)
	col.ObserveRotation([]tlsmgr.Role{tlsmgr.RoleClient}, 300*time.Millisecond)
	n, _ := value(t, reg, "nats_autotls_rotation_duration_seconds", map[string]string{"roles": "client"})
	require.Equal(t, 1.0, n)
}

// rateLimited carries a Retry-After as acme.RateLimitError does.
type rateLimited struct{ at time.Time }

func (e rateLimited) Error() string      { return "slow down" }
func (e rateLimited) RetryAt() time.Time { return e.at }

func TestFailureReason(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"nil":        {nil, ""},
		"deadline":   {fmt.Errorf("tlsmgr: issue from x: %w", context.DeadlineExceeded), metrics.ReasonTimeout},
		"closed":     {fmt.Errorf("renew: %w", tlsmgr.ErrClosed), metrics.ReasonCanceled},
		"rate limit": {fmt.Errorf("tlsmgr: issue from x: %w", rateLimited{}), metrics.ReasonRateLimited},
		"invalid":    {fmt.Errorf("wrapped: %w", &tlsmgr.ValidationError{Reason: "bad"}), metrics.ReasonInvalid},
		"lock":       {errors.New("tlsmgr: lock cert-x: held"), metrics.ReasonLock},
		"store":      {errors.New("tlsmgr: store certificates/x.json: disk full"), metrics.ReasonStorage},
		"issuer":     {errors.New("tlsmgr: issue from x: boom"), metrics.ReasonIssuer},
		"other":      {errors.New("something"), metrics.ReasonOther},
		"joined":     {errors.Join(errors.New("a"), rateLimited{}), metrics.ReasonRateLimited},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, metrics.FailureReason(tc.err))
		})
	}
}

func TestRegistersCleanly(t *testing.T) {
	col := metrics.New(metrics.Config{ConstLabels: prometheus.Labels{"server": "a"}})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	col.Observe(tlsmgr.Event{Type: tlsmgr.EventObtaining, Roles: []tlsmgr.Role{tlsmgr.RoleClient}, Names: []string{"a.example"}, Issuer: "x"})
	col.Observe(tlsmgr.Event{Type: tlsmgr.EventFailed, Roles: []tlsmgr.Role{tlsmgr.RoleClient}, Names: []string{"a.example"}, Issuer: "x", Err: errors.New("no")})
	_, err := reg.Gather()
	require.NoError(t, err, "every metric matches its description")
}

// watching is a Storage that is also a Watcher.
type watching struct{ *tlsmgr.MemoryStorage }

func (watching) Watch(ctx context.Context, prefix string) (<-chan string, error) {
	ch := make(chan string)
	close(ch)
	return ch, nil
}

func TestStorageKeepsWatcher(t *testing.T) {
	col := metrics.New(metrics.Config{})
	_, ok := col.Storage(tlsmgr.NewMemoryStorage()).(tlsmgr.Watcher)
	require.False(t, ok)
	_, ok = col.Storage(watching{tlsmgr.NewMemoryStorage()}).(tlsmgr.Watcher)
	require.True(t, ok, "the wrapper keeps the optional Watcher")
}

// statusSource is a fixed snapshot.
type statusSource []tlsmgr.CertStatus

func (s statusSource) Status() []tlsmgr.CertStatus { return s }

// TestIssuedByNamesTheFallbackMember: a certificate from the second issuer
// of a fallback chain is labelled with it; one from a plain issuer with
// the issuer itself.
func TestIssuedByNamesTheFallbackMember(t *testing.T) {
	c := metrics.New(metrics.Config{Source: statusSource{
		{Roles: []tlsmgr.Role{tlsmgr.RoleClient}, Names: []string{"a.example.com"}, Issuer: "ca1+ca2", IssuedBy: "ca2", Served: true},
		{Roles: []tlsmgr.Role{tlsmgr.RoleCluster}, Names: []string{"a.example.com"}, Issuer: "privateca-x", Served: true},
	}})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	v, ok := value(t, reg, "nats_autotls_certificate_issued_by_info", map[string]string{"issuer": "ca1+ca2", "issued_by": "ca2"})
	require.True(t, ok)
	require.Equal(t, 1.0, v)
	_, ok = value(t, reg, "nats_autotls_certificate_issued_by_info", map[string]string{"issuer": "privateca-x", "issued_by": "privateca-x"})
	require.True(t, ok)
}

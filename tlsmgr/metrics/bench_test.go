package metrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/metrics"
)

// benchManager is a started Manager with one certificate per role group.
func benchManager(b *testing.B) *tlsmgr.Manager {
	b.Helper()
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	return m
}

// BenchmarkStatus is the baseline: the snapshot a scrape reads.
func BenchmarkStatus(b *testing.B) {
	m := benchManager(b)
	for b.Loop() {
		_ = m.Status()
	}
}

// BenchmarkGather is one scrape of the collector's metrics, to compare with
// BenchmarkStatus: the snapshot plus building every metric.
func BenchmarkGather(b *testing.B) {
	m := benchManager(b)
	col := metrics.New(metrics.Config{Source: m})
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserve is the cost the collector adds to each Manager event.
func BenchmarkObserve(b *testing.B) {
	col := metrics.New(metrics.Config{})
	ev := tlsmgr.Event{Type: tlsmgr.EventObtaining, Roles: []tlsmgr.Role{tlsmgr.RoleClient}, Names: []string{"a.example.com"}, Issuer: "acme"}
	for b.Loop() {
		col.Observe(ev)
	}
}

//go:build unix

package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"runtime"
	"testing"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// runMemory runs section 6: heap and goroutines per managed certificate,
// and the cost of GetCertificate, with 1, 100 and 1,000 certificates (one
// Manager each, sharing the CA and a file storage), next to the heap of the
// same number of plain parsed certificates.
func (e *env) runMemory(ctx context.Context) ([]Section, error) {
	counts := []int{1, 100, 1_000}
	if e.cfg.Short {
		counts = []int{1, 10}
	}
	sec := Section{ID: "6", Title: "Memory per managed certificate and GetCertificate", Notes: []string{
		"heap = live heap after GC, divided by the count (one Manager per certificate, one name each, all roles on the shared private CA, file storage, the client role's *tls.Config taken as a server on the client listener does); the static row holds the same number of parsed tls.Certificate values (leaf parsed, key) as a floor.",
		"GetCertificate runs round-robin over the Managers' client configurations with each certificate's name as SNI.",
	}}
	for _, n := range counts {
		rows, err := e.memoryAt(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("%d certificates: %w", n, err)
		}
		sec.Rows = append(sec.Rows, rows...)
		e.logf("memory: %d certificates done", n)
	}
	return []Section{sec}, nil
}

// memoryAt measures n Managers.
func (e *env) memoryAt(ctx context.Context, n int) ([]Row, error) {
	dir, err := e.subdir("memory")
	if err != nil {
		return nil, err
	}
	st := tlsmgr.NewFileStorage(dir)
	heap0, g0 := liveHeap(), runtime.NumGoroutine()
	ms := make([]*tlsmgr.Manager, 0, n)
	defer func() {
		for _, m := range ms {
			m.Close()
		}
	}()
	for i := range n {
		cfg := e.managerConfig(st, nil)
		cfg.Names = []string{fmt.Sprintf("host-%d.example.com", i)}
		m, err := startManager(ctx, cfg)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		// A server on the client listener holds its configuration.
		if _, err := m.TLSConfig(tlsmgr.RoleClient); err != nil {
			return nil, err
		}
	}
	heap1, g1 := liveHeap(), runtime.NumGoroutine()
	static, err := e.staticHeap(ctx, n)
	if err != nil {
		return nil, err
	}
	nsop, allocs, err := getCertificateCost(ms)
	if err != nil {
		return nil, err
	}
	arm := fmt.Sprintf("%d certificates", n)
	return []Row{
		count(arm, "heap per certificate", "B", float64(heap1-heap0)/float64(n)),
		count(arm, "static tls.Certificate heap", "B", static),
		count(arm, "goroutines per certificate", "", float64(g1-g0)/float64(n)),
		count(arm, "GetCertificate", "ns/op", nsop),
		count(arm, "GetCertificate allocations", "/op", allocs),
	}, nil
}

// staticHeap returns the live heap per certificate of n parsed
// certificates held as nats-server holds a cert_file.
func (e *env) staticHeap(ctx context.Context, n int) (float64, error) {
	certs := make([]*tls.Certificate, n)
	heap0 := liveHeap()
	for i := range certs {
		c, err := e.issue(ctx)
		if err != nil {
			return 0, err
		}
		certs[i] = c
	}
	heap1 := liveHeap()
	runtime.KeepAlive(certs)
	return float64(heap1-heap0) / float64(n), nil
}

// liveHeap returns the heap in use after a full collection.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// getCertificateCost benchmarks the client role's GetCertificate over ms.
func getCertificateCost(ms []*tlsmgr.Manager) (nsop, allocs float64, err error) {
	cfgs := make([]*tls.Config, len(ms))
	hellos := make([]*tls.ClientHelloInfo, len(ms))
	for i, m := range ms {
		if cfgs[i], err = m.TLSConfig(tlsmgr.RoleClient); err != nil {
			return 0, 0, err
		}
		hellos[i] = &tls.ClientHelloInfo{ServerName: m.Names(tlsmgr.RoleClient)[0]}
	}
	var failed error
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if c, err := cfgs[i].GetCertificate(hellos[i]); err != nil || c == nil {
				failed = fmt.Errorf("GetCertificate: %v", err)
			}
			if i++; i == len(cfgs) {
				i = 0
			}
		}
	})
	return float64(res.NsPerOp()), float64(res.AllocsPerOp()), failed
}

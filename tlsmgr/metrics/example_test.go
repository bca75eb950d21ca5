package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/metrics"
)

// A Manager's certificates served at /metrics from the caller's own
// registry.
func Example() {
	col := metrics.New(metrics.Config{})
	m, err := tlsmgr.New(tlsmgr.Config{
		Storage: col.Storage(tlsmgr.NewMemoryStorage()), // lock waits
		OnEvent: col.Observe,                            // orders, renewals, failures
	})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	defer m.Close()
	col.SetSource(m) // gauges, read at each scrape

	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "nats_autotls_certificate_served{") {
			fmt.Println(line[:strings.Index(line, "{")], line[strings.LastIndex(line, " ")+1:])
		}
	}
	// Output:
	// nats_autotls_certificate_served 1
}

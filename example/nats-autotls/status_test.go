package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// get fetches http://addr/path and returns the status code and body.
func get(t *testing.T, addr, path string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// scrape parses /metrics with the Prometheus text parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, addr, "/metrics")
	require.Equal(t, http.StatusOK, code)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return mfs
}

// metricValue returns the value of the series of family name whose label
// roles contains role (and whose other labels include want).
func metricValue(mfs map[string]*dto.MetricFamily, name string, role tlsmgr.Role, want map[string]string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if role != "" && !hasRole(labels["roles"], role) {
			continue
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
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
	return 0, false
}

func hasRole(roles string, role tlsmgr.Role) bool {
	for _, r := range strings.Split(roles, ",") {
		if r == string(role) {
			return true
		}
	}
	return false
}

// servedLeaf is the leaf the client port serves, by a real handshake.
func servedLeaf(t *testing.T, port int, name string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := reload.Handshake(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{RootCAs: roots, ServerName: name}, false)
	require.NoError(t, err)
	return cs.PeerCertificates[0]
}

// nextSecond waits until the wall clock is past the second of t:
// certificate times have a resolution of one second, so a renewal within
// the same second could keep NotAfter.
func nextSecond(t time.Time) {
	time.Sleep(time.Until(t.Truncate(time.Second).Add(time.Second)))
}

// Acceptance: /metrics of a running node, parsed as Prometheus does, shows
// the served certificate's NotAfter; a forced renewal moves the order
// counter by one and NotAfter; a failing order raises the failure counter
// and the consecutive-failures gauge. /healthz and /readyz answer 200.
func TestMetricsOfRunningNode(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	roots := writeDirectoryRoots(t, ca)
	name := fmt.Sprintf("metrics-%d.example.test", time.Now().UnixNano())
	port := freePort(t)
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	n := startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_storage", t.TempDir(),
		"-autotls_names", name, "-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos", "-autotls_status", statusAddr,
		"-autotls_acme_roots", roots, "-autotls_http01", net.JoinHostPort("127.0.0.1", strconv.Itoa(ca.HTTPPort)))
	acmeRoots := ca.Roots(t)

	const expiry = "nats_autotls_certificate_expiration_timestamp_seconds"
	mfs := scrape(t, statusAddr)
	leaf := servedLeaf(t, port, name, acmeRoots)
	got, ok := metricValue(mfs, expiry, tlsmgr.RoleClient, nil)
	require.True(t, ok, "expiry of the client certificate")
	require.Equal(t, float64(leaf.NotAfter.Unix()), got, "NotAfter of the served leaf")
	for _, role := range []tlsmgr.Role{tlsmgr.RoleCluster, tlsmgr.RoleGateway} {
		cert, _, err := n.manager.Current(role)
		require.NoError(t, err)
		got, ok := metricValue(mfs, expiry, role, nil)
		require.True(t, ok, "expiry of %s", role)
		require.Equal(t, float64(cert.Leaf.NotAfter.Unix()), got, "role %s", role)
	}
	listener, ok := metricValue(mfs, "nats_autotls_listener_expiration_timestamp_seconds", "", map[string]string{"listener": "client"})
	require.True(t, ok)
	require.Equal(t, float64(leaf.NotAfter.Unix()), listener)
	_, ok = metricValue(mfs, "nats_autotls_private_ca_expiration_timestamp_seconds", "", nil)
	require.True(t, ok)
	orders, _ := metricValue(mfs, "nats_autotls_orders_total", tlsmgr.RoleClient, nil)
	require.Equal(t, 1.0, orders)

	code, body := get(t, statusAddr, "/healthz")
	require.Equal(t, http.StatusOK, code, "%s", body)
	code, _ = get(t, statusAddr, "/readyz")
	require.Equal(t, http.StatusOK, code)

	nextSecond(time.Now()) // the first order is done by now
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, n.manager.Renew(ctx, tlsmgr.RoleClient))
	mfs = scrape(t, statusAddr)
	renewed := servedLeaf(t, port, name, acmeRoots)
	require.NotEqual(t, leaf.NotAfter, renewed.NotAfter)
	got, _ = metricValue(mfs, expiry, tlsmgr.RoleClient, nil)
	require.Equal(t, float64(renewed.NotAfter.Unix()), got, "NotAfter moved with the renewal")
	after, _ := metricValue(mfs, "nats_autotls_orders_total", tlsmgr.RoleClient, nil)
	require.Equal(t, orders+1, after, "one more order")
	require.Eventually(t, func() bool { // confirmed by a handshake with the client listener
		n, _ := metricValue(scrape(t, statusAddr), "nats_autotls_rotation_duration_seconds", tlsmgr.RoleClient, nil)
		return n == 1
	}, 20*time.Second, 10*time.Millisecond, "the renewed certificate's rotation is timed once")

	const failures = "nats_autotls_failures_total"
	sum := func(mfs map[string]*dto.MetricFamily) float64 {
		total := 0.0
		for _, m := range mfs[failures].GetMetric() {
			total += m.GetCounter().GetValue()
		}
		return total
	}
	failedBefore := sum(mfs)
	ca.SetDown(true)
	require.Error(t, n.manager.Renew(ctx, tlsmgr.RoleClient))
	ca.SetDown(false)
	mfs = scrape(t, statusAddr)
	require.Equal(t, failedBefore+1, sum(mfs), "one more failure")
	unreachable, _ := metricValue(mfs, failures, tlsmgr.RoleClient, map[string]string{"reason": "ca_unreachable"})
	require.Equal(t, 1.0, unreachable, "counted under its reason")
	consecutive, _ := metricValue(mfs, "nats_autotls_certificate_consecutive_failures", tlsmgr.RoleClient, nil)
	require.Equal(t, 1.0, consecutive)
	code, body = get(t, statusAddr, "/healthz")
	require.Equal(t, http.StatusOK, code, "a failed renewal of a valid certificate is not yet unhealthy: %s", body)

	code, body = get(t, statusAddr, "/status")
	require.Equal(t, http.StatusOK, code)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	first := raw["certificates"].([]any)[0].(map[string]any)
	for _, key := range []string{"roles", "names", "issuer", "not_after", "next_renewal", "failures", "served"} {
		require.Contains(t, first, key, "/status uses snake_case keys")
	}
}

// Acceptance: the status port answers while the first ACME order is still
// running: /readyz and /healthz say 503 and why; once the certificate is
// served, both answer 200.
func TestStatusPortAnswersDuringFirstOrder(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	release := make(chan struct{})
	var held atomic.Int32
	dirURL, err := url.Parse(ca.DirectoryURL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: dirURL.Scheme, Host: dirURL.Host})
	rp.Transport = ca.HTTPClient.Transport
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		select { // the CA takes its time with the first order
		case <-release:
		case <-r.Context().Done():
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	releaseOnce := func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}
	defer releaseOnce()

	roots := filepath.Join(t.TempDir(), "roots.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.DirectoryCert.Raw})
	pemBytes = append(pemBytes, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw})...)
	require.NoError(t, os.WriteFile(roots, pemBytes, 0o644))

	name := fmt.Sprintf("first-%d.example.test", time.Now().UnixNano())
	port := freePort(t)
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *node, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_storage", t.TempDir(),
			"-autotls_names", name, "-autotls_acme", proxy.URL + dirURL.Path, "-autotls_agree_tos", "-autotls_status", statusAddr,
			"-autotls_acme_roots", roots, "-autotls_http01", net.JoinHostPort("127.0.0.1", strconv.Itoa(ca.HTTPPort))}, io.Discard, ready)
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("nats-autotls did not stop within 30s")
		}
	}()

	require.Eventually(t, func() bool { return held.Load() > 0 }, 20*time.Second, 5*time.Millisecond, "the first order reached the CA")
	code, body := get(t, statusAddr, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, "%s", body)
	code, body = get(t, statusAddr, "/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code, "%s", body)
	var rep struct {
		Healthy bool   `json:"healthy"`
		Reason  string `json:"reason"`
	}
	require.NoError(t, json.Unmarshal(body, &rep))
	require.False(t, rep.Healthy)
	require.Contains(t, rep.Reason, "starting")
	require.Contains(t, rep.Reason, "no certificate yet", "the public listener has no ACME certificate yet")
	code, body = get(t, statusAddr, "/status")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"ready":false`)
	served, ok := metricValue(scrape(t, statusAddr), "nats_autotls_certificate_served", tlsmgr.RoleClient, nil)
	require.True(t, ok)
	require.Equal(t, 0.0, served)

	releaseOnce()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("nats-autotls exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("nats-autotls not ready within 60s")
	}
	code, body = get(t, statusAddr, "/healthz")
	require.Equal(t, http.StatusOK, code, "%s", body)
	code, _ = get(t, statusAddr, "/readyz")
	require.Equal(t, http.StatusOK, code)
}

// The probe mode the container's HEALTHCHECK runs: exit status follows
// /healthz.
func TestProbe(t *testing.T) {
	healthy := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"healthy":false,"reason":"client (client): no certificate yet"}`))
	}))
	defer srv.Close()
	err := run(context.Background(), []string{"-autotls_probe", srv.URL + "/healthz"}, io.Discard, nil)
	require.ErrorContains(t, err, "no certificate yet")
	healthy.Store(true)
	require.NoError(t, run(context.Background(), []string{"-autotls_probe", srv.URL + "/healthz"}, io.Discard, nil))
}

// A margin longer than the certificates' lifetime (the private CA issues
// 7-day certificates) puts every listener inside it: 503, naming the
// listener and the expiry.
func TestHealthzMargin(t *testing.T) {
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-autotls_storage", t.TempDir(),
		"-autotls_status", statusAddr, "-autotls_health_margin", "192h")
	code, body := get(t, statusAddr, "/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code, "%s", body)
	var rep struct {
		Reason   string `json:"reason"`
		Problems []struct {
			Listener string `json:"listener"`
		} `json:"problems"`
	}
	require.NoError(t, json.Unmarshal(body, &rep))
	require.Contains(t, rep.Reason, "within the margin of 192h0m0s")
	require.Equal(t, "client", rep.Problems[0].Listener)
	code, _ = get(t, statusAddr, "/readyz")
	require.Equal(t, http.StatusOK, code, "ready, but not healthy")
}

// In sidecar mode /healthz also needs the last export, reload and
// confirmation to have succeeded: with no server to signal, it is 503 and
// says why.
func TestHealthzSidecarNeedsConfirmation(t *testing.T) {
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	startBinary(t, "-autotls_storage", t.TempDir(), "-autotls_export", t.TempDir(), "-autotls_status", statusAddr,
		"-autotls_reload_pid", "999999999", "-autotls_confirm", "127.0.0.1:1")
	var body []byte
	require.Eventually(t, func() bool {
		var code int
		code, body = get(t, statusAddr, "/healthz")
		return code == http.StatusServiceUnavailable && strings.Contains(string(body), "sidecar: the last export")
	}, 20*time.Second, 10*time.Millisecond, "last answer: %s", body)
	_, status := get(t, statusAddr, "/status")
	require.Contains(t, string(status), `"last_sync_error"`)
}

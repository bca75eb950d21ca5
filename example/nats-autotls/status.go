package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/health"
	"github.com/nats-autotls/autotls/tlsmgr/metrics"
)

// statusReport is what /status serves.
type statusReport struct {
	// Ready is false while the node starts (the first certificates are
	// obtained, the server is not yet accepting connections).
	Ready        bool                `json:"ready"`
	Certificates []tlsmgr.CertStatus `json:"certificates"`
	// Expiry is per listener of the running server: what /varz cannot show
	// for callback-based TLS. Empty in sidecar mode.
	Expiry map[string]time.Time `json:"listener_expiry,omitempty"`
	// LastSync is the error of the last export, reload and confirmation
	// round in sidecar mode, "" after a good one.
	LastSync string `json:"last_sync_error,omitempty"`
	// Unmanaged lists the listeners that serve their own certificate files.
	Unmanaged []unmanagedStatus `json:"unmanaged_listeners,omitempty"`
}

// status is the process's status port: /status, /metrics, /healthz and
// /readyz. It answers from the first moment of the process; the Manager
// and the node are handed to it as they come up. Safe for concurrent use.
type status struct {
	margin  time.Duration
	sidecar bool // -autotls_export: the server runs in another process
	now     func() time.Time
	metrics *metrics.Collector
	reg     *prometheus.Registry

	manager atomic.Pointer[tlsmgr.Manager]
	node    atomic.Pointer[node]

	// mu guards the fields below.
	mu sync.Mutex
	// synced is set once a sidecar round succeeded; syncErr is the last
	// round's error.
	synced  bool
	syncErr error
	// pending are the installs not yet confirmed served by a sidecar.
	pending []tlsmgr.Event

	// rotations queues the installs of a running server for
	// confirmRotations.
	rotations chan tlsmgr.Event
}

// newStatus returns the status of a starting process.
func newStatus(margin time.Duration, sidecar bool) *status {
	s := &status{margin: margin, sidecar: sidecar, now: time.Now, reg: prometheus.NewRegistry(), rotations: make(chan tlsmgr.Event, 16)}
	s.metrics = metrics.New(metrics.Config{Listeners: s.listenerExpiry})
	s.reg.MustRegister(s.metrics,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s
}

// setManager makes the Manager's certificates visible, before it starts.
func (s *status) setManager(m *tlsmgr.Manager) {
	s.manager.Store(m)
	s.metrics.SetSource(m)
}

// setNode marks the node up: /readyz answers 200 from now on.
func (s *status) setNode(n *node) { s.node.Store(n) }

// observe is the Manager's OnEvent: metrics, and each install to confirm
// served (by the sidecar's next good round, or by a handshake with the
// running server's client listener).
func (s *status) observe(ev tlsmgr.Event) {
	s.metrics.Observe(ev)
	if ev.Type != tlsmgr.EventInstalled {
		return
	}
	if s.sidecar {
		s.mu.Lock()
		s.pending = append(s.pending, ev)
		s.mu.Unlock()
		return
	}
	s.installed(ev)
}

// onSync is the sidecar's OnSync: a good round confirms that the external
// server serves every certificate installed before it.
func (s *status) onSync(err error) {
	s.mu.Lock()
	s.syncErr = err
	var done []tlsmgr.Event
	if err == nil {
		s.synced = true
		done, s.pending = s.pending, nil
	}
	s.mu.Unlock()
	for _, ev := range done {
		s.metrics.ObserveRotation(ev.Roles, s.now().Sub(ev.Time))
	}
}

// listenerExpiry is the expiry per listener of the running server.
func (s *status) listenerExpiry() map[string]time.Time {
	n := s.node.Load()
	if n == nil || n.srv() == nil {
		return nil
	}
	return natsopts.Expiry(n.currentOpts(), n.manager)
}

// report builds /status.
func (s *status) report() statusReport {
	rep := statusReport{Certificates: []tlsmgr.CertStatus{}, Ready: s.node.Load() != nil}
	if m := s.manager.Load(); m != nil {
		rep.Certificates = m.Status()
	}
	rep.Expiry = s.listenerExpiry()
	if n := s.node.Load(); n != nil && n.srv() != nil {
		rep.Unmanaged = n.unmanagedListeners()
	}
	s.mu.Lock()
	if s.syncErr != nil {
		rep.LastSync = s.syncErr.Error()
	}
	s.mu.Unlock()
	return rep
}

// health builds /healthz: every managed listener of the running server
// (every certificate, in sidecar mode, where the last round must also have
// succeeded) serves a certificate from its intended issuer valid for longer
// than the margin.
func (s *status) health() health.Report {
	m, n := s.manager.Load(), s.node.Load()
	if m == nil {
		return health.Report{Reason: "starting: no certificate manager yet", Margin: s.margin.String()}
	}
	var targets []health.Target
	if n != nil && n.srv() != nil {
		for _, l := range natsopts.Managed(n.currentOpts(), m) {
			targets = append(targets, health.Target{Name: l.Name, Role: l.Role})
		}
	} else {
		for _, r := range tlsmgr.Roles() {
			targets = append(targets, health.Target{Name: string(r), Role: r})
		}
	}
	rep := health.Check(m, targets, s.now(), s.margin)
	switch {
	case n == nil && rep.Healthy:
		rep.Healthy, rep.Reason = false, "starting: the server is not accepting connections yet"
	case n == nil:
		rep.Reason = "starting: " + rep.Reason
	case n.srv() == nil && rep.Healthy:
		rep.Healthy, rep.Reason = s.sidecarHealth()
	}
	return rep
}

// sidecarHealth requires a good last round: exported, signalled and
// confirmed served.
func (s *status) sidecarHealth() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.syncErr != nil:
		return false, "sidecar: the last export, reload and confirmation failed: " + s.syncErr.Error()
	case !s.synced:
		return false, "sidecar: the external server has not confirmed its certificates yet"
	}
	return true, ""
}

// handler serves the status port's endpoints.
func (s *status) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.report())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		rep := s.health()
		code := http.StatusOK
		if !rep.Healthy {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rep)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.node.Load() == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "starting: waiting for the first certificates and the server"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": true})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// serve listens on addr and serves the status port until the returned
// function is called.
func (s *status) serve(addr string, logger *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-autotls_status %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("status server stopped", "err", err)
		}
	}()
	logger.Info("status served", "url", "http://"+l.Addr().String()+"/status",
		"metrics", "http://"+l.Addr().String()+"/metrics", "health", "http://"+l.Addr().String()+"/healthz")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// healthProbe is the container's health check: it GETs url and fails unless the
// answer is 200, so that an image with no shell or curl can check itself.
func healthProbe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("-autotls_probe %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("-autotls_probe: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var rep struct {
			Reason string `json:"reason"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&rep)
		return fmt.Errorf("-autotls_probe %s: %s: %s", url, resp.Status, rep.Reason)
	}
	return nil
}

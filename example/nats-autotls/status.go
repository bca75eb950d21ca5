package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// statusReport is what /status serves.
type statusReport struct {
	Certificates []tlsmgr.CertStatus `json:"certificates"`
	// Expiry is per listener of the running server: what /varz cannot show
	// for callback-based TLS. Empty in sidecar mode.
	Expiry map[string]time.Time `json:"listener_expiry,omitempty"`
	// Unmanaged lists the listeners that serve their own certificate files.
	Unmanaged []unmanagedStatus `json:"unmanaged_listeners,omitempty"`
}

// serveStatus serves the Manager's status as JSON at http://addr/status and
// returns a function that stops the server.
func serveStatus(addr string, n *node, logger *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-autotls_status %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		rep := statusReport{Certificates: n.manager.Status()}
		if n.srv() != nil {
			rep.Expiry = natsopts.Expiry(n.currentOpts(), n.manager)
			rep.Unmanaged = n.unmanagedListeners()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rep)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("status server stopped", "err", err)
		}
	}()
	logger.Info("status served", "url", "http://"+l.Addr().String()+"/status")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Bounds of the confirmation that the client listener serves a renewed
// certificate.
const (
	confirmWithin = 10 * time.Second
	confirmRetry  = 50 * time.Millisecond
)

// installed queues, while the server runs, a certificate the Manager just
// installed, for confirmRotations. It never blocks: a full queue drops it.
func (s *status) installed(ev tlsmgr.Event) {
	if n := s.node.Load(); n == nil || n.sidecar {
		return
	}
	select {
	case s.rotations <- ev:
	default:
	}
}

// confirmRotations checks, after each certificate installed while the
// server runs, that the client listener hands it out on a real handshake,
// and records the time from install to served in
// nats_autotls_rotation_duration_seconds. It runs until the returned
// function is called.
func (s *status) confirmRotations(ctx context.Context, n *node, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-s.rotations:
				s.confirmServed(ctx, n, ev, logger)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// confirmServed handshakes with the client listener until it serves the
// certificate installed by ev, within confirmWithin.
func (s *status) confirmServed(ctx context.Context, n *node, ev tlsmgr.Event, logger *slog.Logger) {
	addr, tlsFirst, ok := clientListener(n)
	if !ok || !slices.Contains(ev.Roles, tlsmgr.RoleClient) {
		return
	}
	cert, _, err := n.manager.Current(tlsmgr.RoleClient)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, confirmWithin)
	defer cancel()
	// The leaf is compared byte for byte with the Manager's: no chain
	// verification is needed to tell whether it is the same certificate.
	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: firstName(cert)} //nolint:gosec // identity checked below
	for {
		cs, err := reload.Handshake(ctx, addr, cfg, tlsFirst)
		if err == nil && len(cs.PeerCertificates) > 0 && bytes.Equal(cs.PeerCertificates[0].Raw, cert.Leaf.Raw) {
			s.metrics.ObserveRotation(ev.Roles, s.now().Sub(ev.Time))
			return
		}
		t := time.NewTimer(confirmRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			if ctx.Err() == context.DeadlineExceeded {
				logger.Warn("the client listener does not serve the renewed certificate yet", "within", confirmWithin, "addr", addr, "error", err)
			}
			return
		case <-t.C:
		}
	}
}

// clientListener returns the address to dial the running server's client
// listener on, and whether it starts with TLS; ok is false if the server
// has no client listener the Manager serves.
func clientListener(n *node) (addr string, tlsFirst, ok bool) {
	srv := n.srv()
	if srv == nil {
		return "", false, false
	}
	opts := n.currentOpts()
	if !slices.Contains(natsopts.Managed(opts, n.manager), natsopts.ManagedListener{Name: "client", Role: tlsmgr.RoleClient}) {
		return "", false, false
	}
	a, okAddr := srv.Addr().(*net.TCPAddr)
	if !okAddr {
		return "", false, false
	}
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
		if a.IP.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port)), opts.TLSHandshakeFirst, true
}

// firstName is the certificate's first DNS name, or "" (an IP-only
// certificate needs no server name).
func firstName(cert *tls.Certificate) string {
	if cert.Leaf != nil && len(cert.Leaf.DNSNames) > 0 {
		return cert.Leaf.DNSNames[0]
	}
	return ""
}

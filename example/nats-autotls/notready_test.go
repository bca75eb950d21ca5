package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
)

// runUntilReady runs the binary in-process until stop is called.
func runUntilReady(t *testing.T, args ...string) (n *node, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *node, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, ready) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("nats-autotls did not stop within 30s")
		}
	}
	t.Cleanup(stop)
	select {
	case n := <-ready:
		return n, stop
	case err := <-done:
		stopped = true
		t.Fatalf("nats-autotls exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("nats-autotls not ready within 60s")
	}
	return nil, stop
}

// lineSignal is an io.Writer that keeps what is written and signals when
// a line containing want arrives.
type lineSignal struct {
	want string
	hit  chan struct{}
	once sync.Once
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (w *lineSignal) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.hit) })
	}
	return len(p), nil
}

func (w *lineSignal) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestNotReadyWhilePublicOrderFails (issue 12, fault 1): the storage holds
// the private CA's leaf for the server's name (a development-mode run
// before), and the ACME CA fails every order. Before the change the binary
// served that private leaf on its client port and logged "ready". Now it
// keeps ordering, logs each failure, and neither listens nor says ready.
func TestNotReadyWhilePublicOrderFails(t *testing.T) {
	dir := t.TempDir()
	name := fmt.Sprintf("notready-%d.example.test", time.Now().UnixNano())
	port := freePort(t)
	base := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_storage", dir, "-autotls_names", name}
	_, stop := runUntilReady(t, base...)
	stop()

	ca := acmetest.New(t, acmetest.Options{})
	ca.Inject(acmetest.Fault{Path: acmetest.NewOrderPath, Kind: acmetest.FaultStatus, Status: 503})
	args := append(base, "-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos",
		"-autotls_acme_roots", writeDirectoryRoots(t, ca), "-autotls_http01", net.JoinHostPort("127.0.0.1", strconv.Itoa(ca.HTTPPort)))
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineSignal{want: "certificate failed", hit: make(chan struct{})}
	ready := make(chan *node, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, out, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("nats-autotls did not stop within 30s")
		}
	})
	select {
	case <-out.hit:
	case err := <-done:
		t.Fatalf("nats-autotls exited: %v\n%s", err, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("no failed order logged within 60s:\n%s", out)
	}
	require.NotEmpty(t, ca.Requests(acmetest.NewOrderPath), "the CA received the order")
	select {
	case <-ready:
		t.Fatalf("ready while the public certificate is missing:\n%s", out)
	default:
	}
	require.NotContains(t, out.String(), "nats-autotls ready")
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err == nil {
		c.Close()
		t.Fatal("the client port listens while the public certificate is missing")
	}
}

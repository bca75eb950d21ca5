package tlsmgr_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/fakeclock"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

// testCtx returns a context ending with the test or after testTimeout.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newCA returns a fresh private CA on clock.
func newCA(t testing.TB, clock tlsmgr.Clock, leafLifetime time.Duration) *privateca.CA {
	t.Helper()
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	ca, err := privateca.New(privateca.Config{LeafLifetime: leafLifetime, Now: now})
	require.NoError(t, err)
	return ca
}

// startManager creates and starts a Manager, closed at cleanup.
func startManager(t testing.TB, cfg tlsmgr.Config) *tlsmgr.Manager {
	t.Helper()
	m, err := tlsmgr.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	require.NoError(t, m.Start(testCtx(t)))
	return m
}

// serve runs a TLS echo server with cfg on loopback and returns its address.
func serve(t testing.TB, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(testTimeout))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// dial completes a handshake with addr and returns the open connection.
func dial(t testing.TB, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: testTimeout}, Config: cfg}
	ctx := testCtx(t)
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := c.(*tls.Conn)
	_ = tc.SetDeadline(time.Now().Add(testTimeout))
	// TLS 1.3 client certificates are checked after the client's
	// handshake returns: a round trip surfaces a refusal.
	if _, err := tc.Write([]byte("x")); err != nil {
		tc.Close()
		return nil, err
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(tc, buf); err != nil {
		tc.Close()
		return nil, err
	}
	t.Cleanup(func() { tc.Close() })
	return tc, nil
}

// servedLeaf dials addr trusting roots (verifying serverName unless it is
// empty) and returns the leaf the server presented.
func servedLeaf(t testing.TB, addr string, roots *x509.CertPool, serverName string) *x509.Certificate {
	t.Helper()
	cfg := &tls.Config{RootCAs: roots, ServerName: serverName}
	if serverName == "" {
		cfg.InsecureSkipVerify = true
	}
	c, err := dial(t, addr, cfg)
	require.NoError(t, err)
	return c.ConnectionState().PeerCertificates[0]
}

// tlsConfigFor is a client config trusting roots and expecting name.
func tlsConfigFor(roots *x509.CertPool, name string) *tls.Config {
	return &tls.Config{RootCAs: roots, ServerName: name}
}

// echo checks that a round trip over c still works.
func echo(t testing.TB, c *tls.Conn) {
	t.Helper()
	_, err := c.Write([]byte("ping"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	require.Equal(t, "ping", string(buf))
}

// testIssuer wraps a RootsIssuer: it counts orders, can fail, and can hold
// each order until released.
type testIssuer struct {
	tlsmgr.RootsIssuer
	orders   atomic.Int32
	inFlight atomic.Int32 // Issue calls not yet returned
	// mu guards the fields below.
	mu       sync.Mutex
	failures []error                                          // returned by the next orders, in turn
	gate     chan struct{}                                    // if not nil, Issue waits for it
	entered  chan struct{}                                    // if not nil, Issue reports each order on it
	mutate   func(key crypto.Signer, names []string) [][]byte // if not nil, issues instead
	key      string
}

func (ti *testIssuer) IssuerKey() string {
	if ti.key != "" {
		return ti.key
	}
	return ti.RootsIssuer.IssuerKey()
}

func (ti *testIssuer) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	ti.orders.Add(1)
	ti.inFlight.Add(1)
	defer ti.inFlight.Add(-1)
	ti.mu.Lock()
	gate := ti.gate
	var fail error
	if len(ti.failures) > 0 {
		fail, ti.failures = ti.failures[0], ti.failures[1:]
	}
	mutate := ti.mutate
	entered := ti.entered
	ti.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		return nil, fail
	}
	if mutate != nil {
		return mutate(key, names), nil
	}
	return ti.RootsIssuer.Issue(ctx, key, names, replaces)
}

// failNext makes the next orders fail with errs.
func (ti *testIssuer) failNext(errs ...error) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.failures = append(ti.failures, errs...)
}

// rateLimitError carries a Retry-After, as the acme package's does.
type rateLimitError struct{ at time.Time }

func (e *rateLimitError) Error() string      { return "rate limited" }
func (e *rateLimitError) RetryAt() time.Time { return e.at }

var errCADown = errors.New("CA down")

// eventLog collects events and lets a test wait for one.
type eventLog struct {
	mu     sync.Mutex
	events []tlsmgr.Event
	ch     chan tlsmgr.Event
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan tlsmgr.Event, 1000)} }

func (l *eventLog) add(ev tlsmgr.Event) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	l.ch <- ev
}

// wait returns the next event of type typ.
func (l *eventLog) wait(t testing.TB, typ tlsmgr.EventType) tlsmgr.Event {
	t.Helper()
	ctx := testCtx(t)
	for {
		select {
		case ev := <-l.ch:
			if ev.Type == typ {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s event", typ)
		}
	}
}

// count returns how many events of type typ arrived.
func (l *eventLog) count(typ tlsmgr.EventType) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ev := range l.events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// newClock returns a fake clock at the current time.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Now()) }

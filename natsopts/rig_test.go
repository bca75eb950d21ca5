package natsopts_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// wait bounds every wait on a condition in these tests.
const wait = 10 * time.Second

// newCA returns a fresh private CA shared by the Managers of one test.
func newCA(t testing.TB) *privateca.CA {
	t.Helper()
	certPEM, keyPEM, err := privateca.Generate("natsopts test CA", 24*time.Hour)
	require.NoError(t, err)
	ca, err := privateca.New(privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})
	require.NoError(t, err)
	return ca
}

// newManager starts a Manager on the test CA with in-memory storage.
// Without names it serves the development names (localhost and loopback).
func newManager(t testing.TB, ca *privateca.CA, cfg tlsmgr.Config) *tlsmgr.Manager {
	t.Helper()
	cfg.PrivateCA = ca
	if cfg.Storage == nil {
		cfg.Storage = tlsmgr.NewMemoryStorage()
	}
	if cfg.Roles == nil {
		cfg.Roles = map[tlsmgr.Role]tlsmgr.RoleConfig{}
	}
	if _, ok := cfg.Roles[tlsmgr.RoleLeafnodeRemote]; !ok {
		// The hub's certificate comes from the test CA too.
		cfg.Roles[tlsmgr.RoleLeafnodeRemote] = tlsmgr.RoleConfig{PeerRoots: ca.Roots()}
	}
	m, err := tlsmgr.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, m.Start(ctx))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// baseOpts are the options of a test server: loopback, random client port,
// no signal handlers.
func baseOpts() *server.Options {
	return &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true}
}

// startServer applies m to opts, starts a server on them and waits until it
// accepts connections. opts is the server's own copy afterwards (its ports
// are filled in).
func startServer(t *testing.T, opts *server.Options, m *tlsmgr.Manager, options ...natsopts.Option) (*server.Server, *logLines) {
	t.Helper()
	require.NoError(t, natsopts.Apply(opts, m, options...))
	return startRaw(t, opts)
}

// startRaw starts a server on opts as they are.
func startRaw(t *testing.T, opts *server.Options) (*server.Server, *logLines) {
	t.Helper()
	s, err := server.NewServer(opts)
	require.NoError(t, err)
	logs := newLogLines()
	s.SetLoggerV2(logs, false, false, false)
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	require.True(t, s.ReadyForConnections(wait), "server not ready")
	return s, logs
}

// trust returns a pool of the Manager's private CA bundle.
func trust(t testing.TB, m *tlsmgr.Manager) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(m.TrustBundlePEM()))
	return pool
}

// connect opens a verifying nats.go connection and closes it at cleanup.
func connect(t *testing.T, url string, cfg *tls.Config, extra ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.Secure(cfg), nats.Timeout(wait)}, extra...)...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// clientURL is the tls:// URL of a server's client port on host.
func clientURL(host string, opts *server.Options) string {
	return fmt.Sprintf("tls://%s:%d", host, opts.Port)
}

// leaf returns the certificate a role of m serves now.
func leaf(t *testing.T, m *tlsmgr.Manager, role tlsmgr.Role) *x509.Certificate {
	t.Helper()
	c, _, err := m.Current(role)
	require.NoError(t, err)
	require.NotNil(t, c.Leaf)
	return c.Leaf
}

// roundTrip subscribes on sub and publishes on pub until a message
// arrives, which proves interest has propagated and the path works.
func roundTrip(t *testing.T, pub, sub *nats.Conn, subject string) {
	t.Helper()
	ch := make(chan *nats.Msg, 64)
	s, err := sub.ChanSubscribe(subject, ch)
	require.NoError(t, err)
	defer func() { _ = s.Unsubscribe() }()
	require.NoError(t, sub.Flush())
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for {
		require.NoError(t, pub.Publish(subject, []byte("hello")))
		select {
		case m := <-ch:
			require.Equal(t, "hello", string(m.Data))
			return
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no message on %q within %v", subject, wait)
		}
	}
}

// logLines collects a server's log lines and lets a test wait for one.
type logLines struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced at every new line
}

func newLogLines() *logLines { return &logLines{changed: make(chan struct{})} }

func (l *logLines) add(level, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, v...))
	close(l.changed)
	l.changed = make(chan struct{})
}

// Noticef and the others implement server.Logger.
func (l *logLines) Noticef(format string, v ...any) { l.add("[INF]", format, v...) }
func (l *logLines) Warnf(format string, v ...any)   { l.add("[WRN]", format, v...) }
func (l *logLines) Fatalf(format string, v ...any)  { l.add("[FTL]", format, v...) }
func (l *logLines) Errorf(format string, v ...any)  { l.add("[ERR]", format, v...) }
func (l *logLines) Debugf(format string, v ...any)  { l.add("[DBG]", format, v...) }
func (l *logLines) Tracef(format string, v ...any)  { l.add("[TRC]", format, v...) }

// find returns the lines containing every part.
func (l *logLines) find(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, line := range l.lines {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}

// waitFor waits until a line contains every part, and returns it.
func (l *logLines) waitFor(t *testing.T, parts ...string) string {
	t.Helper()
	return l.waitForAny(t, parts)
}

// waitForAny waits until a line contains every part of one of the
// alternatives, and returns the first such line.
func (l *logLines) waitForAny(t *testing.T, alternatives ...[]string) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		l.mu.Lock()
		ch := l.changed
		l.mu.Unlock()
		for _, parts := range alternatives {
			if got := l.find(parts...); len(got) > 0 {
				return got[0]
			}
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no log line with any of %q within %v", alternatives, wait)
		}
	}
}

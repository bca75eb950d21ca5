package reload_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// wait bounds every wait on a condition in these tests.
const wait = 15 * time.Second

// binDir holds the nats-server binary built once per test binary.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reload-test-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
)

// natsServerBin builds the nats-server command of the module graph once.
func natsServerBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "nats-server")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build nats-server: %s", out)
		}
	})
	require.NoError(t, buildErr)
	return bin
}

// newManager starts a Manager on ca with in-memory storage and the
// development names (localhost and loopback).
func newManager(t *testing.T, ca *privateca.CA) *tlsmgr.Manager {
	t.Helper()
	m, err := tlsmgr.New(tlsmgr.Config{
		PrivateCA: ca,
		Storage:   tlsmgr.NewMemoryStorage(),
		Roles:     map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleLeafnodeRemote: {PeerRoots: ca.Roots()}},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, m.Start(ctx))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// newCA returns a fresh private CA.
func newCA(t *testing.T) *privateca.CA {
	t.Helper()
	certPEM, keyPEM, err := privateca.Generate("reload test CA", 24*time.Hour)
	require.NoError(t, err)
	ca, err := privateca.New(privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})
	require.NoError(t, err)
	return ca
}

// pool returns a pool of m's private CA bundle.
func pool(t *testing.T, m *tlsmgr.Manager) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	require.True(t, p.AppendCertsFromPEM(m.TrustBundlePEM()))
	return p
}

// leaf returns the certificate a role of m serves now.
func leaf(t *testing.T, m *tlsmgr.Manager, role tlsmgr.Role) *x509.Certificate {
	t.Helper()
	c, _, err := m.Current(role)
	require.NoError(t, err)
	return c.Leaf
}

// process is a child process whose output lines a test can wait for.
type process struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
	done    chan struct{}
}

// startProcess starts name with args, collecting stdout and stderr lines,
// and kills it at cleanup.
func startProcess(t *testing.T, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(name, args...), changed: make(chan struct{}), done: make(chan struct{})}
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	require.NoError(t, p.cmd.Start())
	go p.read(r)
	go func() {
		_ = p.cmd.Wait()
		_ = w.Close()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// read collects lines until the process's output closes.
func (p *process) read(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
}

// count returns how many lines contain s.
func (p *process) count(s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// waitFor waits for the n-th line containing s and returns it.
func (p *process) waitFor(t *testing.T, s string, n int) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		p.mu.Lock()
		ch, seen := p.changed, 0
		for _, l := range p.lines {
			if strings.Contains(l, s) {
				if seen++; seen == n {
					p.mu.Unlock()
					return l
				}
			}
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.done:
			t.Fatalf("process exited before printing %q:\n%s", s, strings.Join(p.lines, "\n"))
		case <-deadline:
			t.Fatalf("no line %q within %v", s, wait)
		}
	}
}

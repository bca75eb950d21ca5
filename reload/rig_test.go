package reload_test

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/testbin"
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
	serverBin string
	buildErr  error
)

// natsServerBin builds the nats-server command of the module graph once.
func natsServerBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		serverBin, buildErr = testbin.Build(ctx, testbin.NatsServer, filepath.Join(binDir, "nats-server"))
	})
	require.NoError(t, buildErr)
	return serverBin
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
	*testbin.Process
	cmd *exec.Cmd
}

// startProcess starts name with args, collecting stdout and stderr lines,
// and kills it at cleanup.
func startProcess(t *testing.T, name string, args ...string) *process {
	t.Helper()
	p := testbin.Start(t, wait, name, args...)
	return &process{Process: p, cmd: p.Cmd}
}

// count returns how many lines contain s.
func (p *process) count(s string) int { return p.Count(s) }

// waitFor waits for the n-th line containing s and returns it.
func (p *process) waitFor(t *testing.T, s string, n int) string {
	t.Helper()
	return p.WaitFor(t, s, n)
}

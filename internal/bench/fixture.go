//go:build unix

package bench

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/nats-autotls/autotls/internal/atomicfile"
	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// names are the names every benchmark certificate covers.
var names = []string{"localhost", "127.0.0.1"}

// waitLimit bounds every wait for a server, a message or a child process.
const waitLimit = 60 * time.Second

// env is what the sections share: a private CA the clients trust and a
// work directory.
type env struct {
	cfg   Config
	dir   string
	ca    *privateca.CA
	caPEM []byte
	pool  *x509.CertPool

	// chainLen is how many certificates the managed client listener
	// sends, set by section 1.
	chainLen int

	binOnce sync.Once
	bins    Binaries
	binErr  error
}

// newEnv makes a private CA and a work directory under dir.
func newEnv(cfg Config, dir string) (*env, error) {
	certPEM, keyPEM, err := privateca.Generate("nats-autotls bench CA", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	ca, err := privateca.New(privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	return &env{cfg: cfg, dir: dir, ca: ca, caPEM: certPEM, pool: pool}, nil
}

// logf reports progress.
func (e *env) logf(format string, args ...any) {
	if e.cfg.Progress != nil {
		fmt.Fprintf(e.cfg.Progress, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
}

// subdir makes a fresh directory under the work directory.
func (e *env) subdir(name string) (string, error) {
	return os.MkdirTemp(e.dir, name+"-")
}

// managerConfig is the Config of a benchmark Manager: the shared CA, the
// benchmark names, st as storage, onEvent for events.
func (e *env) managerConfig(st tlsmgr.Storage, onEvent func(tlsmgr.Event)) tlsmgr.Config {
	return tlsmgr.Config{Names: names, PrivateCA: e.ca, Storage: st, OnEvent: onEvent}
}

// startManager creates and starts a Manager.
func startManager(ctx context.Context, cfg tlsmgr.Config) (*tlsmgr.Manager, error) {
	m, err := tlsmgr.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// issue signs a new leaf for the benchmark names with a new key.
func (e *env) issue(ctx context.Context) (*tls.Certificate, error) {
	key, err := certutil.GenerateKey(certutil.P256)
	if err != nil {
		return nil, err
	}
	chain, err := e.ca.Issue(ctx, key, names, nil)
	if err != nil {
		return nil, err
	}
	return certutil.TLSCertificate(chain, key)
}

// certFiles are a certificate chain and key in PEM files, as nats-server
// reads them.
type certFiles struct{ cert, key string }

// write writes c to the files atomically, key first, so that a reload
// triggered after write returns reads a matching pair.
func (f certFiles) write(c *tls.Certificate) error {
	key, ok := c.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("private key of type %T is not a signer", c.PrivateKey)
	}
	keyPEM, err := certutil.EncodeKey(key)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(f.key, keyPEM, 0o600); err != nil {
		return err
	}
	return atomicfile.WriteFile(f.cert, certutil.EncodeChain(c.Certificate), 0o644)
}

// newCertFiles names the files of a certificate in dir.
func newCertFiles(dir, name string) certFiles {
	return certFiles{cert: filepath.Join(dir, name+".crt"), key: filepath.Join(dir, name+".key")}
}

// baseOpts are the options of every embedded benchmark server.
func baseOpts() *server.Options {
	return &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, MaxConn: 100_000, TLSTimeout: 5}
}

// managedOpts are baseOpts on m's TLS, as an embedder sets them.
func managedOpts(m *tlsmgr.Manager) (*server.Options, error) {
	opts := baseOpts()
	if err := natsopts.Apply(opts, m); err != nil {
		return nil, err
	}
	return opts, nil
}

// fileOpts are baseOpts with TLS from files, as nats-server builds them
// from cert_file and key_file.
func fileOpts(f certFiles) (*server.Options, error) {
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: f.cert, KeyFile: f.key})
	if err != nil {
		return nil, err
	}
	opts := baseOpts()
	opts.TLS, opts.TLSConfig = true, tc
	return opts, nil
}

// startServer starts an embedded server and returns it with its client URL.
func startServer(opts *server.Options) (*server.Server, string, error) {
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, "", err
	}
	s.Start()
	if !s.ReadyForConnections(waitLimit) {
		s.Shutdown()
		return nil, "", errors.New("embedded nats-server not ready")
	}
	return s, "tls://" + s.Addr().String(), nil
}

// stopServer shuts s down and waits.
func stopServer(s *server.Server) {
	s.Shutdown()
	s.WaitForShutdown()
}

// clientTLS is the TLS configuration of a benchmark client: it trusts the
// private CA and, if seen is not nil, reports the server's leaf.
func (e *env) clientTLS(seen func(*x509.Certificate)) *tls.Config {
	c := &tls.Config{RootCAs: e.pool, MinVersion: tls.VersionTLS12}
	if seen != nil {
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			seen(cs.PeerCertificates[0])
			return nil
		}
	}
	return c
}

// connect opens a nats.go connection that does not reconnect.
func connect(url string, tc *tls.Config, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.Secure(tc), nats.NoReconnect(), nats.Timeout(10 * time.Second)}, opts...)
	return nats.Connect(url, opts...)
}

package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/internal/testbin"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// The parity tests run one nats.conf against plain nats-server (built from
// the module cache, serving cert_file/key_file) and against the built
// nats-autotls binary (serving managed certificates), and assert the same
// observable outcome from real clients.

// parityWait bounds each wait on a process line.
const parityWait = 60 * time.Second

var (
	parityOnce sync.Once
	parityBins struct {
		natsServer, autotls string
		err                 error
	}
)

// parityBinaries builds nats-server and nats-autotls once per test binary.
func parityBinaries(t *testing.T) (natsServer, autotls string) {
	t.Helper()
	parityOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parity-bin-")
		if err != nil {
			parityBins.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if parityBins.natsServer, err = testbin.Build(ctx, testbin.NatsServer, filepath.Join(dir, "nats-server")); err != nil {
			parityBins.err = err
			return
		}
		parityBins.autotls, parityBins.err = testbin.Build(ctx, ".", filepath.Join(dir, "nats-autotls"))
	})
	require.NoError(t, parityBins.err)
	return parityBins.natsServer, parityBins.autotls
}

// testCA is a CA made for a test, with helpers to write PEM files.
type testCA struct {
	ca  *privateca.CA
	dir string
	pem string // path of the CA certificate
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	certPEM, keyPEM, err := privateca.Generate(name, 24*time.Hour)
	require.NoError(t, err)
	ca, err := privateca.New(privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})
	require.NoError(t, err)
	dir := t.TempDir()
	c := &testCA{ca: ca, dir: dir, pem: filepath.Join(dir, "ca.pem")}
	require.NoError(t, os.WriteFile(c.pem, certPEM, 0o644))
	return c
}

// issued is a certificate and key from a testCA, in memory and on disk.
type issued struct {
	cert          *tls.Certificate
	certPEM, keyP string
}

// issue makes a serverAuth+clientAuth certificate for names.
func (c *testCA) issue(t *testing.T, names ...string) issued {
	t.Helper()
	key, err := certutil.GenerateKey(certutil.P256)
	require.NoError(t, err)
	chain, err := c.ca.Issue(context.Background(), key, names, nil)
	require.NoError(t, err)
	cert, err := certutil.TLSCertificate(chain, key)
	require.NoError(t, err)
	keyPEM, err := certutil.EncodeKey(key)
	require.NoError(t, err)
	base := filepath.Join(c.dir, names[0])
	require.NoError(t, os.WriteFile(base+".pem", certutil.EncodeChain(chain), 0o644))
	require.NoError(t, os.WriteFile(base+".key", keyPEM, 0o600))
	return issued{cert: cert, certPEM: base + ".pem", keyP: base + ".key"}
}

// pool returns the CA as a pool.
func (c *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.ca.Certificate())
	return p
}

// spkiPin is nats-server's pinned_certs form of a certificate's key.
func spkiPin(c *tls.Certificate) string {
	sum := sha256.Sum256(c.Leaf.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// A parityTarget is one of the two servers a conf runs on.
type parityTarget struct {
	name string
	// start runs conf (whose tls blocks hold a {{CERT}} marker where the
	// certificate files go) and returns the running process and the roots
	// that verify its client listener.
	start func(t *testing.T, conf string) (*testbin.Process, *x509.CertPool)
}

// parityTargets returns plain nats-server, serving files from its own CA,
// and nats-autotls, serving managed certificates from its private CA.
func parityTargets(t *testing.T) []parityTarget {
	natsServer, autotls := parityBinaries(t)
	serverCA := newTestCA(t, "nats-server test CA")
	serverCert := serverCA.issue(t, "localhost", "127.0.0.1")
	certLines := fmt.Sprintf("cert_file: %q\nkey_file: %q\n", serverCert.certPEM, serverCert.keyP)
	return []parityTarget{
		{"nats-server", func(t *testing.T, conf string) (*testbin.Process, *x509.CertPool) {
			path := writeConf(t, strings.ReplaceAll(conf, "{{CERT}}", certLines))
			p := testbin.Start(t, parityWait, natsServer, "-c", path)
			p.WaitFor(t, "Server is ready", 1)
			return p, serverCA.pool()
		}},
		{"nats-autotls", func(t *testing.T, conf string) (*testbin.Process, *x509.CertPool) {
			path := writeConf(t, strings.ReplaceAll(conf, "{{CERT}}", ""))
			storage := t.TempDir()
			p := testbin.Start(t, parityWait, autotls, "-c", path, "-autotls_storage", storage)
			p.WaitFor(t, "Server is ready", 1)
			roots := x509.NewCertPool()
			bundle, err := os.ReadFile(filepath.Join(storage, "ca-bundle.pem"))
			require.NoError(t, err)
			require.True(t, roots.AppendCertsFromPEM(bundle))
			return p, roots
		}},
	}
}

func writeConf(t *testing.T, conf string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
	return path
}

// A probe is one client attempt and whether it must succeed.
type probe struct {
	name string
	ok   bool
	// tls adjusts the client's config (RootCAs and ServerName are set).
	tls  func(*tls.Config)
	opts []nats.Option
}

// dial connects as p describes and round-trips a flush.
func (p probe) dial(url string, roots *x509.CertPool) error {
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}
	if p.tls != nil {
		p.tls(cfg)
	}
	opts := append([]nats.Option{nats.Secure(cfg), nats.Timeout(5 * time.Second), nats.NoReconnect()}, p.opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	return nc.FlushTimeout(5 * time.Second)
}

// withCert presents c as the client certificate.
func withCert(c *tls.Certificate) func(*tls.Config) {
	return func(cfg *tls.Config) { cfg.Certificates = []tls.Certificate{*c} }
}

// TestParityClientPolicy: each TLS setting of the client listener has the
// same effect on nats-autotls as on nats-server.
func TestParityClientPolicy(t *testing.T) {
	clientCA := newTestCA(t, "client test CA")
	alice, bob := clientCA.issue(t, "alice"), clientCA.issue(t, "bob")
	tls12 := func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }
	targets := parityTargets(t)

	for _, tc := range []struct {
		name   string
		extra  string // top-level configuration besides the listener
		tls    string // the tls block's policy
		probes []probe
	}{
		{name: "verify", tls: fmt.Sprintf("ca_file: %q\nverify: true", clientCA.pem), probes: []probe{
			{name: "no client certificate", ok: false},
			{name: "certificate from ca_file", ok: true, tls: withCert(alice.cert)},
		}},
		{name: "min_version 1.3", tls: `min_version: "1.3"`, probes: []probe{
			{name: "TLS 1.2", ok: false, tls: tls12},
			{name: "TLS 1.3", ok: true},
		}},
		{name: "cipher_suites", tls: `cipher_suites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]`, probes: []probe{
			{name: "TLS 1.2 with a cipher outside the list", ok: false, tls: func(c *tls.Config) {
				tls12(c)
				c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
			}},
			{name: "TLS 1.2 with the listed cipher", ok: true, tls: func(c *tls.Config) {
				tls12(c)
				c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
			}},
		}},
		{name: "curve_preferences", tls: `curve_preferences: ["CurveP384"]`, probes: []probe{
			{name: "X25519 only", ok: false, tls: func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.X25519} }},
			{name: "P-384", ok: true, tls: func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP384} }},
		}},
		{name: "verify_and_map", extra: `authorization { users = [ { user: "alice" } ] }`,
			tls: fmt.Sprintf("ca_file: %q\nverify_and_map: true", clientCA.pem), probes: []probe{
				{name: "mapped certificate", ok: true, tls: withCert(alice.cert)},
				{name: "unmapped certificate", ok: false, tls: withCert(bob.cert)},
				{name: "no certificate", ok: false},
			}},
		{name: "handshake_first", tls: "handshake_first: true", probes: []probe{
			{name: "handshake-first client", ok: true, opts: []nats.Option{nats.TLSHandshakeFirst()}},
		}},
		{name: "pinned_certs", tls: fmt.Sprintf("ca_file: %q\nverify: true\npinned_certs: [%q]", clientCA.pem, spkiPin(alice.cert)), probes: []probe{
			{name: "pinned client", ok: true, tls: withCert(alice.cert)},
			{name: "unpinned client from the same CA", ok: false, tls: withCert(bob.cert)},
		}},
		{name: "timeout", tls: "timeout: 3", probes: []probe{
			{name: "client", ok: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range targets {
				t.Run(target.name, func(t *testing.T) {
					port := freePort(t)
					conf := fmt.Sprintf("host: 127.0.0.1\nport: %d\n%s\ntls {\n{{CERT}}%s\n}\n", port, tc.extra, tc.tls)
					_, roots := target.start(t, conf)
					url := fmt.Sprintf("tls://127.0.0.1:%d", port)
					for _, p := range tc.probes {
						err := p.dial(url, roots)
						if p.ok {
							require.NoError(t, err, "%s: %s", target.name, p.name)
						} else {
							require.Error(t, err, "%s: %s must be refused", target.name, p.name)
							t.Logf("%s: %s refused: %v", target.name, p.name, err)
						}
					}
				})
			}
		})
	}
}

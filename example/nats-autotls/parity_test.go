package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
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

// hubServer starts an in-process nats-server hub whose leafnode listener
// serves cert; with clientCA it also verifies the leafnodes' certificates.
// A responder on the hub answers "parity.join". It returns the leafnode
// port.
func hubServer(t *testing.T, cert *tls.Certificate, clientCA *x509.CertPool) int {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true}
	opts.LeafNode.Host, opts.LeafNode.Port = "127.0.0.1", freePort(t)
	opts.LeafNode.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	if clientCA != nil {
		opts.LeafNode.TLSConfig.ClientAuth, opts.LeafNode.TLSConfig.ClientCAs = tls.RequireAndVerifyClientCert, clientCA
	}
	s, err := server.NewServer(opts)
	require.NoError(t, err)
	s.Start()
	t.Cleanup(s.Shutdown)
	require.True(t, s.ReadyForConnections(10*time.Second))
	respond(t, s.ClientURL(), nil)
	return opts.LeafNode.Port
}

// respond answers requests on "parity.join" at url until the test ends.
func respond(t *testing.T, url string, opts ...nats.Option) {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	_, err = nc.Subscribe("parity.join", func(m *nats.Msg) { _ = m.Respond([]byte("hub")) })
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
}

// leafConf is a leaf with a TLS client listener ({{CERT}} marks where
// nats-server gets its files) whose one remote dials the hub at port with
// the given tls block body.
func leafConf(port int, tlsBody string) string {
	return fmt.Sprintf("host: 127.0.0.1\nport: -1\ntls {\n{{CERT}}\n}\nleafnodes {\n remotes: [ { url: \"tls://127.0.0.1:%d\", tls: {\n%s\n} } ]\n}\n", port, tlsBody)
}

// joined reports whether a client of the leaf p reaches the hub's
// responder (see asks).
func joined(t *testing.T, p *testbin.Process, roots *x509.CertPool, expect bool) bool {
	t.Helper()
	line := p.WaitFor(t, "Listening for client connections on", 1)
	addr := line[strings.LastIndex(line, " ")+1:]
	nc, err := nats.Connect("tls://"+addr, nats.Secure(&tls.Config{RootCAs: roots, ServerName: "localhost"}), nats.Timeout(5*time.Second))
	require.NoError(t, err)
	defer nc.Close()
	return asks(t, nc, expect)
}

// TestParityLeafnodeRemote: a leafnode remote's tls { ca_file } verifies a
// hub served by another CA, and its cert_file/key_file are its client
// certificate, on nats-autotls as on nats-server.
func TestParityLeafnodeRemote(t *testing.T) {
	hubCA, clientCA, otherCA := newTestCA(t, "hub test CA"), newTestCA(t, "leaf client test CA"), newTestCA(t, "unrelated test CA")
	hubCert := hubCA.issue(t, "127.0.0.1")
	hub := hubServer(t, hubCert.cert, nil)
	verifyingHub := hubServer(t, hubCert.cert, clientCA.pool())
	leafCert := clientCA.issue(t, "leaf")
	targets := parityTargets(t)

	for _, tc := range []struct {
		name string
		conf string
		join bool
	}{
		{"ca_file of the hub's CA", leafConf(hub, fmt.Sprintf("ca_file: %q", hubCA.pem)), true},
		{"ca_file of another CA", leafConf(hub, fmt.Sprintf("ca_file: %q", otherCA.pem)), false},
		{"cert_file as client certificate", leafConf(verifyingHub, fmt.Sprintf("ca_file: %q\ncert_file: %q\nkey_file: %q", hubCA.pem, leafCert.certPEM, leafCert.keyP)), true},
		{"no client certificate for a verifying hub", leafConf(verifyingHub, fmt.Sprintf("ca_file: %q", hubCA.pem)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range targets {
				t.Run(target.name, func(t *testing.T) {
					p, roots := target.start(t, tc.conf)
					if tc.join {
						require.True(t, joined(t, p, roots, true), "%s did not join the hub:\n%s", target.name, p.Output())
						return
					}
					// Refused: the handshake error, then no answer.
					p.WaitForAny(t, "certificate signed by unknown authority", "Leafnode connection closed")
					require.False(t, joined(t, p, roots, false), "%s joined:\n%s", target.name, p.Output())
				})
			}
		})
	}
}

// TestParityLeafnodeRemoteACMEHub: a leafnode remote with tls { ca_file }
// joins a hub whose leafnode certificate comes from an ACME CA (Pebble, in
// process; the hub is nats-autotls itself).
func TestParityLeafnodeRemoteACMEHub(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	// The issuing intermediates as ca_file: Go accepts any certificate of
	// the pool as a trust anchor.
	rootsFile := filepath.Join(t.TempDir(), "pebble-ca.pem")
	require.NoError(t, os.WriteFile(rootsFile, ca.IntermediatesPEM(t), 0o644))
	hubConf := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: %d\nleafnodes { host: 127.0.0.1, port: %d }\n", freePort(t), freePort(t)))
	hub := startBinary(t, "-c", hubConf, "-autotls_storage", t.TempDir(), "-autotls_names", "127.0.0.1",
		"-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos", "-autotls_acme_roots", writeDirectoryRoots(t, ca),
		"-autotls_http01", fmt.Sprintf("127.0.0.1:%d", ca.HTTPPort))
	port := hub.currentOpts().LeafNode.Port
	for _, target := range parityTargets(t) {
		t.Run(target.name, func(t *testing.T) {
			respond(t, hub.server.ClientURL(), nats.Secure(&tls.Config{RootCAs: ca.Roots(t), ServerName: "127.0.0.1"}))
			p, roots := target.start(t, leafConf(port, fmt.Sprintf("ca_file: %q", rootsFile)))
			require.True(t, joined(t, p, roots, true), "%s did not join the hub:\n%s", target.name, p.Output())
		})
	}
}

// TestParityUnmanagedClientListener: cert_file/key_file on the client
// listener (in nats.conf or as --tls --tlscert --tlskey) mean what they
// mean to nats-server: the listener serves those files. nats-autotls says
// so once at start, and still manages the other listeners.
func TestParityUnmanagedClientListener(t *testing.T) {
	natsServer, autotls := parityBinaries(t)
	ca := newTestCA(t, "file test CA")
	cert := ca.issue(t, "localhost", "127.0.0.1")
	for _, tc := range []struct {
		name string
		args func(port int) []string
	}{
		{"nats.conf", func(port int) []string {
			return []string{"-c", writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: %d\ntls { cert_file: %q, key_file: %q }\n", port, cert.certPEM, cert.keyP))}
		}},
		{"flags", func(port int) []string {
			return []string{"-a", "127.0.0.1", "-p", fmt.Sprint(port), "--tls", "--tlscert", cert.certPEM, "--tlskey", cert.keyP}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range []struct{ name, bin string }{{"nats-server", natsServer}, {"nats-autotls", autotls}} {
				t.Run(target.name, func(t *testing.T) {
					port := freePort(t)
					args := tc.args(port)
					if target.bin == autotls {
						args = append(args, "-autotls_storage", t.TempDir())
					}
					p := testbin.Start(t, parityWait, target.bin, args...)
					p.WaitFor(t, "Server is ready", 1)
					var served *x509.Certificate
					err := probe{ok: true, tls: func(c *tls.Config) {
						c.VerifyConnection = func(cs tls.ConnectionState) error { served = cs.PeerCertificates[0]; return nil }
					}}.dial(fmt.Sprintf("tls://127.0.0.1:%d", port), ca.pool())
					require.NoError(t, err)
					require.Equal(t, cert.cert.Leaf.Raw, served.Raw, "%s serves the file's certificate", target.name)
					if target.bin == autotls {
						line := p.WaitFor(t, "listener not managed", 1)
						require.Contains(t, line, "listener=client")
					}
				})
			}
		})
	}
}

// TestBinaryRefusesWithFileAndLine: a setting the binary cannot honour
// stops it before anything listens, with the file, line, setting and fix.
func TestBinaryRefusesWithFileAndLine(t *testing.T) {
	_, autotls := parityBinaries(t)
	port := freePort(t)
	conf := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: %d\nleafnodes {\n  remotes: [\n    { url: \"tls://127.0.0.1:7422\"\n      tls: {\n        insecure: true\n      }\n    }\n  ]\n}\n", port))
	p := testbin.Start(t, parityWait, autotls, "-c", conf, "-autotls_storage", t.TempDir())
	<-p.Done()
	require.NotZero(t, p.Cmd.ProcessState.ExitCode(), "exit status")
	out := p.Output()
	require.Contains(t, out, conf+":7: leafnodes.remotes[0].tls.insecure:", out)
	require.Contains(t, out, "remove insecure", out)
	require.NotContains(t, out, "Server is ready")
	require.NotContains(t, out, "certificate installed", "refused before ordering")
}

// TestParityOtherListeners: the TLS policy of the websocket listener and of
// HTTPS monitoring (which serves the client listener's tls block, but
// nats-server asks HTTPS clients for no certificate) has the same effect on
// nats-autotls as on nats-server.
func TestParityOtherListeners(t *testing.T) {
	clientCA := newTestCA(t, "client test CA")
	alice := clientCA.issue(t, "alice")
	targets := parityTargets(t)
	verify := fmt.Sprintf("ca_file: %q\nverify: true", clientCA.pem)

	httpsGet := func(url string, roots *x509.CertPool, cert *tls.Certificate) error {
		cfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := hc.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	}
	for _, tc := range []struct {
		name     string
		noCertOK bool
		conf     func(port int) string
		try      func(port int, roots *x509.CertPool, cert *tls.Certificate) error
	}{
		{"websocket verify", false, func(port int) string {
			return fmt.Sprintf("host: 127.0.0.1\nport: -1\nwebsocket {\n host: 127.0.0.1\n port: %d\n tls {\n{{CERT}}\n%s\n}\n}\n", port, verify)
		}, func(port int, roots *x509.CertPool, cert *tls.Certificate) error {
			p := probe{}
			if cert != nil {
				p.tls = withCert(cert)
			}
			return p.dial(fmt.Sprintf("wss://127.0.0.1:%d", port), roots)
		}},
		{"https monitoring verify", true, func(port int) string {
			return fmt.Sprintf("host: 127.0.0.1\nport: -1\nhttps_port: %d\ntls {\n{{CERT}}\n%s\n}\n", port, verify)
		}, func(port int, roots *x509.CertPool, cert *tls.Certificate) error {
			return httpsGet(fmt.Sprintf("https://127.0.0.1:%d/varz", port), roots, cert)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range targets {
				t.Run(target.name, func(t *testing.T) {
					port := freePort(t)
					_, roots := target.start(t, tc.conf(port))
					err := tc.try(port, roots, nil)
					require.Equal(t, tc.noCertOK, err == nil, "%s: a client without a certificate: %v", target.name, err)
					require.NoError(t, tc.try(port, roots, alice.cert), "%s: a client certificate from ca_file", target.name)
				})
			}
		})
	}
}

// TestParityLeafnodeAcceptVerify: a hub's leafnodes tls { ca_file, verify }
// admits a leaf presenting a certificate from ca_file and refuses one
// without, on nats-autotls as on nats-server.
func TestParityLeafnodeAcceptVerify(t *testing.T) {
	clientCA := newTestCA(t, "leaf client test CA")
	leafCert := clientCA.issue(t, "leaf")
	for _, target := range parityTargets(t) {
		t.Run(target.name, func(t *testing.T) {
			leafPort := freePort(t)
			p, roots := target.start(t, fmt.Sprintf("host: 127.0.0.1\nport: -1\ntls {\n{{CERT}}\n}\nleafnodes {\n host: 127.0.0.1\n port: %d\n tls {\n{{CERT}}\nca_file: %q\nverify: true\n}\n}\n", leafPort, clientCA.pem))
			line := p.WaitFor(t, "Listening for client connections on", 1)
			respond(t, "tls://"+line[strings.LastIndex(line, " ")+1:], nats.Secure(&tls.Config{RootCAs: roots, ServerName: "localhost"}))
			for _, tc := range []struct {
				name string
				cert *tls.Certificate
				join bool
			}{
				{"certificate from ca_file", leafCert.cert, true},
				{"no certificate", nil, false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					remote := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
					if tc.cert != nil {
						remote.Certificates = []tls.Certificate{*tc.cert}
					}
					opts := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true}
					opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{
						URLs: []*neturl.URL{{Scheme: "tls", Host: fmt.Sprintf("127.0.0.1:%d", leafPort)}}, TLS: true, TLSConfig: remote,
					}}
					leaf, err := server.NewServer(opts)
					require.NoError(t, err)
					leaf.Start()
					t.Cleanup(leaf.Shutdown)
					require.True(t, leaf.ReadyForConnections(10*time.Second))
					nc, err := nats.Connect(leaf.ClientURL())
					require.NoError(t, err)
					defer nc.Close()
					require.Equal(t, tc.join, asks(t, nc, tc.join), "%s: %s", target.name, tc.name)
				})
			}
		})
	}
}

// asks requests "parity.join" until the hub answers (the leafnode
// connection is up and the leaf has the hub's interest), for up to
// parityWait if an answer is expected and two seconds if not. A request
// without responders fails at once, so asks paces them.
func asks(t *testing.T, nc *nats.Conn, expect bool) bool {
	t.Helper()
	wait := 2 * time.Second
	if expect {
		wait = parityWait
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if _, err := nc.Request("parity.join", nil, time.Second); err == nil {
			return true
		} else if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
			require.NoError(t, err)
		}
		time.Sleep(20 * time.Millisecond) // pacing between asks; the answer is the event waited for
	}
	return false
}

// TestMixedClusterMigration: a cluster moves to managed TLS one node at a
// time. A nats-autotls node whose cluster tls block names the old CA
// (ca_file) routes with a plain nats-server node still on cert_file from
// that CA, which trusts the new node's private CA bundle; a client of the
// old node reaches a responder on the new one.
func TestMixedClusterMigration(t *testing.T) {
	natsServer, autotls := parityBinaries(t)
	oldCA := newTestCA(t, "old cluster CA")
	oldCert := oldCA.issue(t, "127.0.0.1", "localhost")
	newPort, oldPort := freePort(t), freePort(t)

	storage := t.TempDir()
	newConf := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: -1\ncluster {\n name: C\n host: 127.0.0.1\n port: %d\n tls { ca_file: %q }\n routes: [\"nats://127.0.0.1:%d\"]\n}\n",
		newPort, oldCA.pem, oldPort))
	managed := testbin.Start(t, parityWait, autotls, "-c", newConf, "-autotls_storage", storage)
	line := managed.WaitFor(t, "Listening for client connections on", 1)
	managed.WaitFor(t, "Server is ready", 1)
	bundle := filepath.Join(storage, "ca-bundle.pem")
	roots := x509.NewCertPool()
	pemBytes, err := os.ReadFile(bundle)
	require.NoError(t, err)
	require.True(t, roots.AppendCertsFromPEM(pemBytes))
	respond(t, "tls://"+line[strings.LastIndex(line, " ")+1:], nats.Secure(&tls.Config{RootCAs: roots, ServerName: "localhost"}))

	oldConf := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: -1\ncluster {\n name: C\n host: 127.0.0.1\n port: %d\n tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true }\n routes: [\"nats://127.0.0.1:%d\"]\n}\n",
		oldPort, oldCert.certPEM, oldCert.keyP, bundle, newPort))
	plain := testbin.Start(t, parityWait, natsServer, "-c", oldConf)
	line = plain.WaitFor(t, "Listening for client connections on", 1)
	nc, err := nats.Connect("nats://"+line[strings.LastIndex(line, " ")+1:], nats.Timeout(5*time.Second))
	require.NoError(t, err)
	defer nc.Close()
	require.True(t, asks(t, nc, true), "no route between the nodes:\nnats-autotls:\n%s\nnats-server:\n%s", managed.Output(), plain.Output())
}

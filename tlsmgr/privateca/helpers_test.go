package privateca_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// handshakeTimeout bounds every TLS handshake in the tests.
const handshakeTimeout = 10 * time.Second

// node is one NATS server as the private CA sees it: a leaf and the CA value
// whose Roots it verifies peers against.
type node struct {
	ca   *privateca.CA
	cert *tls.Certificate
}

// newCA returns a CA from cfg, failing the test on error.
func newCA(t *testing.T, cfg privateca.Config) *privateca.CA {
	t.Helper()
	ca, err := privateca.New(cfg)
	require.NoError(t, err)
	return ca
}

// issue returns a P-256 leaf for names from ca as a tls.Certificate.
func issue(t *testing.T, ca *privateca.CA, names ...string) *tls.Certificate {
	t.Helper()
	return issueKey(t, ca, certutil.P256, names...)
}

func issueKey(t *testing.T, ca *privateca.CA, kt certutil.KeyType, names ...string) *tls.Certificate {
	t.Helper()
	key, err := certutil.GenerateKey(kt)
	require.NoError(t, err)
	chain, err := ca.Issue(context.Background(), key, names, nil)
	require.NoError(t, err)
	cert, err := certutil.TLSCertificate(chain, key)
	require.NoError(t, err)
	return cert
}

// nodeOf issues a leaf for localhost from ca.
func nodeOf(t *testing.T, ca *privateca.CA) node {
	t.Helper()
	return node{ca: ca, cert: issue(t, ca, "localhost", "127.0.0.1", "::1")}
}

// mtlsConfig is the configuration of a cluster route as tlsmgr builds it:
// mutual TLS, certificates from callbacks (so a dialer presents its leaf
// whatever CAs the acceptor asks for), peers verified against the node's
// current Roots.
func mtlsConfig(n node) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		ClientAuth:     tls.RequireAndVerifyClientCert,
		ClientCAs:      n.ca.Roots(),
		RootCAs:        n.ca.Roots(),
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return n.cert, nil },
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return n.cert, nil
		},
		ServerName: "localhost",
	}
}

// result is the outcome of a handshake on each side.
type result struct {
	dialer, acceptor error
}

// unknownCA is how Go reports a peer certificate from an untrusted CA.
const unknownCA = "certificate signed by unknown authority"

// requireAccepted fails unless both sides completed the handshake.
func (r result) requireAccepted(t *testing.T) {
	t.Helper()
	require.NoError(t, r.dialer, "dialer")
	require.NoError(t, r.acceptor, "acceptor")
}

// requireRefusedBy fails unless side ("dialer" or "acceptor") refused the
// peer's certificate as coming from an unknown CA, and the other side saw
// the handshake fail.
func (r result) requireRefusedBy(t *testing.T, side string) {
	t.Helper()
	refuser, other := r.dialer, r.acceptor
	if side == "acceptor" {
		refuser, other = r.acceptor, r.dialer
	}
	require.ErrorContains(t, refuser, unknownCA, side)
	require.Error(t, other, "the peer of the %s", side)
}

// handshake runs a mutual-TLS handshake over net.Pipe with dialer as the
// client and acceptor as the server. The dialer's side succeeds only if it
// also read the first byte the acceptor sends after its handshake.
func handshake(t *testing.T, dialer, acceptor node) result {
	t.Helper()
	cc, sc := net.Pipe()
	deadline := time.Now().Add(handshakeTimeout)
	require.NoError(t, cc.SetDeadline(deadline))
	require.NoError(t, sc.SetDeadline(deadline))
	srvErr := make(chan error, 1)
	go func() {
		defer sc.Close()
		s := tls.Server(sc, mtlsConfig(acceptor))
		if err := s.Handshake(); err != nil {
			srvErr <- err
			return
		}
		_, err := s.Write([]byte{'+'})
		srvErr <- err
	}()
	c := tls.Client(cc, mtlsConfig(dialer))
	err := c.Handshake()
	if err == nil {
		_, err = c.Read(make([]byte, 1))
	}
	cc.Close()
	return result{dialer: err, acceptor: <-srvErr}
}

// verify checks leaf against roots for usage.
func verify(leaf *x509.Certificate, roots *x509.CertPool, usage x509.ExtKeyUsage, at time.Time) error {
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: at})
	return err
}

// keyOf generates a key of type kt.
func keyOf(t *testing.T, kt certutil.KeyType) crypto.Signer {
	t.Helper()
	k, err := certutil.GenerateKey(kt)
	require.NoError(t, err)
	return k
}

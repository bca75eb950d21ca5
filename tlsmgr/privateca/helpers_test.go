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

// mtlsConfig is the configuration of a cluster route: mutual TLS, both ways
// verified against the node's current Roots.
func mtlsConfig(n node) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    n.ca.Roots(),
		RootCAs:      n.ca.Roots(),
		Certificates: []tls.Certificate{*n.cert},
		ServerName:   "localhost",
	}
}

// handshake runs a mutual-TLS handshake over net.Pipe with dialer as the
// client and acceptor as the server. It returns nil only if both sides
// completed and the server's first byte reached the client.
func handshake(t *testing.T, dialer, acceptor node) error {
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
	if serr := <-srvErr; serr != nil {
		return serr
	}
	return err
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

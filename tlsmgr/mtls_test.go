package tlsmgr_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// leafSpec describes a hand-made test certificate.
type leafSpec struct {
	names     []string
	ekus      []x509.ExtKeyUsage
	notBefore time.Time
	notAfter  time.Time
	isCA      bool
	key       crypto.Signer // nil: a new P-256 key
}

// makeCert signs spec with parent/parentKey (self-signed if parent is nil)
// and returns the certificate with its key and chain (leaf first, then
// extra).
func makeCert(t testing.TB, spec leafSpec, parent *x509.Certificate, parentKey crypto.Signer, extra ...*x509.Certificate) (*tls.Certificate, *x509.Certificate) {
	t.Helper()
	var key crypto.Signer = spec.key
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		key = k
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = time.Now().Add(-time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = time.Now().Add(24 * time.Hour)
	}
	dns, ips := certutil.SplitNames(spec.names)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "test " + spec.notAfter.Format(time.Kitchen)},
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		DNSNames:              dns,
		IPAddresses:           ips,
		ExtKeyUsage:           spec.ekus,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  spec.isCA,
	}
	if spec.isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	chain := [][]byte{der}
	for _, c := range extra {
		chain = append(chain, c.Raw)
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: cert}, cert
}

// caSigner returns the CA's certificate and key, to hand-make leaves.
func caSigner(t testing.TB, ca *privateca.CA) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	keyPEM, err := ca.KeyPEM()
	require.NoError(t, err)
	key, err := certutil.DecodeKey(keyPEM)
	require.NoError(t, err)
	return ca.Certificate(), key
}

// clusterNode starts a Manager with ca as private CA, logging to log.
func clusterNode(t testing.TB, ca tlsmgr.RootsIssuer, log *syncBuffer, names ...string) *tlsmgr.Manager {
	t.Helper()
	cfg := tlsmgr.Config{Names: names, PrivateCA: ca, Storage: tlsmgr.NewMemoryStorage()}
	if log != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	return startManager(t, cfg)
}

// dialer returns m's role config as nats-server uses it to dial a peer:
// cloned, with ServerName set.
func dialer(t testing.TB, m *tlsmgr.Manager, role tlsmgr.Role, serverName string) *tls.Config {
	t.Helper()
	cfg, err := m.TLSConfig(role)
	require.NoError(t, err)
	c := cfg.Clone()
	c.ServerName = serverName
	return c
}

func TestClusterCertificateUsages(t *testing.T) {
	ca := newCA(t, nil, 0)
	m := clusterNode(t, ca, nil, "n1.example.net", "10.0.0.1")
	cert, _, err := m.Current(tlsmgr.RoleCluster)
	require.NoError(t, err)
	leaf := cert.Leaf
	require.ElementsMatch(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage)
	require.Equal(t, []string{"n1.example.net"}, leaf.DNSNames)
	require.True(t, leaf.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")))
	for _, r := range []tlsmgr.Role{tlsmgr.RoleGateway, tlsmgr.RoleLeafnodeRemote} {
		other, _, err := m.Current(r)
		require.NoError(t, err)
		require.Same(t, cert, other, "cluster, gateway and leafnode-remote share one certificate")
	}
}

func TestMutualTLSBetweenManagers(t *testing.T) {
	ca := newCA(t, nil, 0)
	a := clusterNode(t, ca, nil, "a.cluster.local")
	b := clusterNode(t, ca, nil, "b.cluster.local")
	for _, role := range []tlsmgr.Role{tlsmgr.RoleCluster, tlsmgr.RoleGateway} {
		t.Run(string(role), func(t *testing.T) {
			srv, err := a.TLSConfig(role)
			require.NoError(t, err)
			addr := serve(t, srv)
			c, err := dial(t, addr, dialer(t, b, role, "a.cluster.local"))
			require.NoError(t, err)
			st := c.ConnectionState()
			require.Equal(t, []string{"a.cluster.local"}, st.PeerCertificates[0].DNSNames)
			echo(t, c)
		})
	}
}

func TestMutualTLSRefusesBadClients(t *testing.T) {
	ca := newCA(t, nil, 0)
	caCert, caKey := caSigner(t, ca)
	other := newCA(t, nil, 0)
	otherCert, otherKey := caSigner(t, other)
	interCert := func() (*x509.Certificate, crypto.Signer) {
		c, _ := makeCert(t, leafSpec{isCA: true}, nil, nil)
		return c.Leaf, c.PrivateKey.(crypto.Signer)
	}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	untrustedInter, untrustedKey := interCert()

	log := &syncBuffer{}
	server := clusterNode(t, ca, log, "a.cluster.local")
	srv, err := server.TLSConfig(tlsmgr.RoleCluster)
	require.NoError(t, err)
	addr := serve(t, srv)

	good, _ := makeCert(t, leafSpec{names: []string{"b"}, ekus: both}, caCert, caKey)
	tests := []struct {
		name string
		cert *tls.Certificate // nil: no client certificate
		want string           // in the server's log; "-": refused by crypto/tls
	}{
		{"good", good, ""},
		{"no certificate", nil, "-"},
		{"other CA", must(makeCert(t, leafSpec{names: []string{"b"}, ekus: both}, otherCert, otherKey)), "unknown authority"},
		{"no clientAuth", must(makeCert(t, leafSpec{names: []string{"b"}, ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, caCert, caKey)), "incompatible key usage"},
		{"expired", must(makeCert(t, leafSpec{names: []string{"b"}, ekus: both, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)}, caCert, caKey)), "expired"},
		{"self-signed", must(makeCert(t, leafSpec{names: []string{"b"}, ekus: both}, nil, nil)), "unknown authority"},
		{"untrusted intermediate", must(makeCert(t, leafSpec{names: []string{"b"}, ekus: both}, untrustedInter, untrustedKey, untrustedInter)), "unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &tls.Config{InsecureSkipVerify: true}
			if tt.cert != nil {
				cfg.Certificates = []tls.Certificate{*tt.cert}
			}
			_, err := dial(t, addr, cfg)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			if tt.want == "-" {
				return // refused by crypto/tls before verification
			}
			require.Eventually(t, func() bool {
				return bytes.Contains([]byte(log.String()), []byte(tt.want))
			}, testTimeout, 5*time.Millisecond, "server log: %s", log.String())
		})
	}
}

// must drops the parsed leaf of makeCert.
func must(c *tls.Certificate, _ *x509.Certificate) *tls.Certificate { return c }

func TestMutualTLSRefusesBadServers(t *testing.T) {
	ca := newCA(t, nil, 0)
	caCert, caKey := caSigner(t, ca)
	other := newCA(t, nil, 0)
	otherCert, otherKey := caSigner(t, other)
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	client := clusterNode(t, ca, nil, "b.cluster.local")

	tests := []struct {
		name       string
		cert       *tls.Certificate
		serverName string
		want       string
	}{
		{"good", must(makeCert(t, leafSpec{names: []string{"a.cluster.local"}, ekus: both}, caCert, caKey)), "a.cluster.local", ""},
		{"good without expected name", must(makeCert(t, leafSpec{names: []string{"a.cluster.local"}, ekus: both}, caCert, caKey)), "", ""},
		{"wrong name", must(makeCert(t, leafSpec{names: []string{"a.cluster.local"}, ekus: both}, caCert, caKey)), "c.cluster.local", "not c.cluster.local"},
		{"no serverAuth", must(makeCert(t, leafSpec{names: []string{"a.cluster.local"}, ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, caCert, caKey)), "a.cluster.local", "incompatible key usage"},
		{"other CA", must(makeCert(t, leafSpec{names: []string{"a.cluster.local"}, ekus: both}, otherCert, otherKey)), "a.cluster.local", "unknown authority"},
		{"expired", must(makeCert(t, leafSpec{names: []string{"a.cluster.local"}, ekus: both, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)}, caCert, caKey)), "a.cluster.local", "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, &tls.Config{Certificates: []tls.Certificate{*tt.cert}, ClientAuth: tls.RequireAnyClientCert})
			_, err := dial(t, addr, dialer(t, client, tlsmgr.RoleCluster, tt.serverName))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
			var pe *tlsmgr.PeerError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tlsmgr.RoleCluster, pe.Role)
			require.False(t, pe.Server)
		})
	}
}

func TestMutualTLSAcrossCARotation(t *testing.T) {
	ca := newCA(t, nil, 0)
	a := clusterNode(t, ca, nil, "a.cluster.local")
	b := clusterNode(t, ca, nil, "b.cluster.local")
	oldA, _, err := a.Current(tlsmgr.RoleCluster)
	require.NoError(t, err)

	certPEM, keyPEM, err := privateca.Generate("rotated CA", time.Hour*24*365)
	require.NoError(t, err)
	require.NoError(t, ca.Rotate(certPEM, keyPEM))
	require.NoError(t, b.Renew(testCtx(t), tlsmgr.RoleCluster))
	newB, _, err := b.Current(tlsmgr.RoleCluster)
	require.NoError(t, err)
	require.Equal(t, "rotated CA", newB.Leaf.Issuer.CommonName)
	require.NotEqual(t, oldA.Leaf.Issuer.CommonName, newB.Leaf.Issuer.CommonName)

	srvA, _ := a.TLSConfig(tlsmgr.RoleCluster)
	srvB, _ := b.TLSConfig(tlsmgr.RoleCluster)
	addrA, addrB := serve(t, srvA), serve(t, srvB)
	_, err = dial(t, addrA, dialer(t, b, tlsmgr.RoleCluster, "a.cluster.local"))
	require.NoError(t, err, "new peer dials old peer")
	_, err = dial(t, addrB, dialer(t, a, tlsmgr.RoleCluster, "b.cluster.local"))
	require.NoError(t, err, "old peer dials new peer")
}

func TestVerifyPeersOnClientRole(t *testing.T) {
	ca := newCA(t, nil, 0)
	m := startManager(t, tlsmgr.Config{
		PrivateCA: ca, Storage: tlsmgr.NewMemoryStorage(),
		Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleLeafnode: {VerifyPeers: true}},
	})
	peer := clusterNode(t, ca, nil, "leaf.local")
	cfg, err := m.TLSConfig(tlsmgr.RoleLeafnode)
	require.NoError(t, err)
	require.Equal(t, tls.RequireAnyClientCert, cfg.ClientAuth)
	addr := serve(t, cfg)
	_, err = dial(t, addr, dialer(t, peer, tlsmgr.RoleLeafnodeRemote, "localhost"))
	require.NoError(t, err)
	_, err = dial(t, addr, &tls.Config{InsecureSkipVerify: true})
	require.Error(t, err, "a client without certificate is refused")
}

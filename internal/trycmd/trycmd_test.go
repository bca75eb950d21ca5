package trycmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// issue returns a CA and a leaf it signed for names.
func issue(t *testing.T, names ...string) (ca, leaf *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			lt.IPAddresses = append(lt.IPAddresses, ip)
		} else {
			lt.DNSNames = append(lt.DNSNames, n)
		}
	}
	der, err = x509.CreateCertificate(rand.Reader, lt, ca, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	return ca, leaf
}

func TestCommand(t *testing.T) {
	ca, leaf := issue(t, "localhost", "127.0.0.1", "nats.example.net")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	other, _ := issue(t, "x")
	otherPool := x509.NewCertPool()
	otherPool.AddCert(other)
	private := Bundle{Path: "/var/lib/nats-autotls/ca-bundle.pem", Roots: pool}
	wrong := Bundle{Path: "/etc/wrong.pem", Roots: otherPool}

	for name, tc := range map[string]struct {
		l    Listener
		want string
	}{
		"all addresses": {Listener{Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 4222}, Chain: []*x509.Certificate{leaf}, Bundles: []Bundle{wrong, private}},
			"nats --tlsca /var/lib/nats-autotls/ca-bundle.pem -s tls://localhost:4222 pub demo hi"},
		"bound IP covered": {Listener{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4333}, Chain: []*x509.Certificate{leaf}, Bundles: []Bundle{private}},
			"nats --tlsca /var/lib/nats-autotls/ca-bundle.pem -s tls://127.0.0.1:4333 pub demo hi"},
		"bound IP not covered": {Listener{Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 4222}, Chain: []*x509.Certificate{leaf}, Bundles: []Bundle{private}},
			"nats --tlsca /var/lib/nats-autotls/ca-bundle.pem -s tls://localhost:4222 pub demo hi"},
		"public CA": {Listener{Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 4222}, Chain: []*x509.Certificate{leaf}, Bundles: []Bundle{wrong}, System: pool},
			"nats -s tls://localhost:4222 pub demo hi"},
		"unknown CA": {Listener{Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 4222}, Chain: []*x509.Certificate{leaf}, System: otherPool},
			`nats --tlsca <the root CA of "test CA"> -s tls://localhost:4222 pub demo hi`},
		"policy": {Listener{Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 4222}, Chain: []*x509.Certificate{leaf}, Bundles: []Bundle{{Path: "/a b/ca.pem", Roots: pool}},
			HandshakeFirst: true, ClientCert: true, UserPassword: true},
			"nats --tlsca '/a b/ca.pem' --tlsfirst --tlscert <client.crt> --tlskey <client.key> --user <user> --password <password> -s tls://localhost:4222 pub demo hi"},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, Command(tc.l))
		})
	}
}

func TestURLPrefersTheNameOfARemoteListener(t *testing.T) {
	_, leaf := issue(t, "*.example.net", "nats.example.net")
	u := URL(Listener{Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4222}, Chain: []*x509.Certificate{leaf}})
	require.Equal(t, "tls://nats.example.net:4222", u)
}

package privateca_test

import (
	"context"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

func TestIssueLeafForLocalhost(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ca := newCA(t, privateca.Config{Now: func() time.Time { return now }})
	key := keyOf(t, certutil.P256)

	chain, err := ca.Issue(context.Background(), key, []string{"localhost", "127.0.0.1", "::1"}, nil)
	require.NoError(t, err)
	require.Len(t, chain, 2)
	certs, err := certutil.ParseChain(chain)
	require.NoError(t, err)
	leaf := certs[0]

	require.True(t, certs[1].Equal(ca.Certificate()), "chain[1] is the signing CA")
	require.Equal(t, []string{"localhost"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 2)
	require.True(t, leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")))
	require.True(t, leaf.IPAddresses[1].Equal(net.IPv6loopback))
	require.Equal(t, "localhost", leaf.Subject.CommonName)
	require.ElementsMatch(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage)
	require.Equal(t, x509.KeyUsageDigitalSignature, leaf.KeyUsage)
	require.True(t, leaf.BasicConstraintsValid)
	require.False(t, leaf.IsCA)
	require.Equal(t, ca.Certificate().SubjectKeyId, leaf.AuthorityKeyId)
	require.True(t, certutil.KeyMatches(key, leaf.PublicKey))
	require.Equal(t, now.Add(-time.Minute), leaf.NotBefore)
	require.Equal(t, now.Add(privateca.DefaultLeafLifetime), leaf.NotAfter)
	require.Equal(t, 7*24*time.Hour, leaf.NotAfter.Sub(now))
	require.LessOrEqual(t, leaf.SerialNumber.BitLen(), 128)
	require.Greater(t, leaf.SerialNumber.BitLen(), 64, "serial is random 128-bit")

	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		require.NoError(t, verify(leaf, ca.Roots(), usage, now), "usage %v", usage)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		require.NoError(t, leaf.VerifyHostname(host))
	}
}

func TestIssueKeyTypes(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	tests := []struct {
		name  string
		kt    certutil.KeyType
		usage x509.KeyUsage
	}{
		{"p256", certutil.P256, x509.KeyUsageDigitalSignature},
		{"p384", certutil.P384, x509.KeyUsageDigitalSignature},
		{"ed25519", certutil.Ed25519, x509.KeyUsageDigitalSignature},
		{"rsa2048", certutil.RSA2048, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := issueKey(t, ca, tt.kt, "nats.example.com")
			require.Equal(t, tt.usage, cert.Leaf.KeyUsage)
			require.Equal(t, tt.kt, certutil.KeyTypeOf(cert.Leaf.PublicKey))
			require.NoError(t, verify(cert.Leaf, ca.Roots(), x509.ExtKeyUsageClientAuth, time.Now()))
		})
	}
}

func TestIssueNames(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	tests := []struct {
		name     string
		names    []string
		wantDNS  []string
		wantIPs  int
		wantCN   string
		wantHost string
	}{
		{"wildcard", []string{"*.nats.example.com"}, []string{"*.nats.example.com"}, 0, "*.nats.example.com", "a.nats.example.com"},
		{"normalised", []string{"NATS.Example.COM."}, []string{"nats.example.com"}, 0, "nats.example.com", "nats.example.com"},
		{"duplicates dropped", []string{"a.example", "a.example", "10.0.0.1", "10.0.0.1"}, []string{"a.example"}, 1, "a.example", "10.0.0.1"},
		{"bracketed IPv6", []string{"[::1]"}, nil, 1, "::1", "::1"},
		{"underscore", []string{"_nats.example.com"}, []string{"_nats.example.com"}, 0, "_nats.example.com", ""},
		{"long first name has no CN", []string{longLabel(60) + ".example.com", "b.example"}, []string{longLabel(60) + ".example.com", "b.example"}, 0, "", "b.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := issue(t, ca, tt.names...).Leaf
			require.Equal(t, tt.wantDNS, leaf.DNSNames)
			require.Len(t, leaf.IPAddresses, tt.wantIPs)
			require.Equal(t, tt.wantCN, leaf.Subject.CommonName)
			if tt.wantHost != "" {
				require.NoError(t, leaf.VerifyHostname(tt.wantHost))
			}
		})
	}
}

func longLabel(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestIssueRejectsBadNames(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	tests := []struct {
		name  string
		names []string
		want  string // substring of the error
	}{
		{"no names", nil, "no names"},
		{"empty name", []string{"ok.example", ""}, `name "": empty`},
		{"only a dot", []string{"."}, `name ".": empty`},
		{"space", []string{"nats example.com"}, `name "nats example.com": character ' '`},
		{"empty label", []string{"nats..example.com"}, `name "nats..example.com": has an empty label`},
		{"leading dot", []string{".example.com"}, "empty label"},
		{"double wildcard", []string{"*.*"}, `name "*.*": "*" is allowed only`},
		{"bare wildcard", []string{"*"}, `name "*": a wildcard needs a domain`},
		{"partial wildcard", []string{"a*.example.com"}, `"*" is allowed only`},
		{"inner wildcard", []string{"a.*.example.com"}, `"*" is allowed only`},
		{"leading hyphen", []string{"-a.example.com"}, "starts or ends with a hyphen"},
		{"label too long", []string{longLabel(64) + ".example"}, "longer than 63"},
		{"name too long", []string{longLabel(63) + "." + longLabel(63) + "." + longLabel(63) + "." + longLabel(63)}, "longer than 253"},
		{"unicode", []string{"bücher.example"}, "not allowed"},
		{"url", []string{"nats://a.example:4222"}, "not allowed"},
		{"host and port", []string{"a.example:4222"}, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ca.Issue(context.Background(), keyOf(t, certutil.P256), tt.names, nil)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, err, "privateca: issue")
		})
	}
}

func TestIssueNameErrorIsTyped(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	_, err := ca.Issue(context.Background(), keyOf(t, certutil.P256), []string{"bad name"}, nil)
	var ne *privateca.NameError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, "bad name", ne.Name)
}

func TestIssueLifetime(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	caPEM, keyPEM := generateAt(t, now.Add(-time.Hour), now.Add(48*time.Hour))
	tests := []struct {
		name      string
		cfg       privateca.Config
		wantAfter time.Time
	}{
		{"configured", privateca.Config{Now: clock, LeafLifetime: 2 * time.Hour}, now.Add(2 * time.Hour)},
		{"clamped to CA expiry", privateca.Config{Now: clock, CertPEM: caPEM, KeyPEM: keyPEM}, now.Add(48 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := issue(t, newCA(t, tt.cfg), "a.example").Leaf
			require.Equal(t, tt.wantAfter, leaf.NotAfter)
		})
	}
}

func TestIssueNotBeforeClampedToCA(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	caPEM, keyPEM := generateAt(t, now.Add(-10*time.Second), now.Add(48*time.Hour))
	ca := newCA(t, privateca.Config{Now: func() time.Time { return now }, CertPEM: caPEM, KeyPEM: keyPEM})
	leaf := issue(t, ca, "a.example").Leaf
	require.Equal(t, now.Add(-10*time.Second), leaf.NotBefore)
}

func TestIssueAfterCAExpiry(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	current := now
	ca := newCA(t, privateca.Config{Now: func() time.Time { return current }, CALifetime: time.Hour})
	current = now.Add(2 * time.Hour)
	_, err := ca.Issue(context.Background(), keyOf(t, certutil.P256), []string{"a.example"}, nil)
	require.ErrorContains(t, err, "expired at "+now.Add(time.Hour).Format(time.RFC3339))
	require.ErrorContains(t, err, "Rotate")
}

func TestIssueCanceledContext(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ca.Issue(ctx, keyOf(t, certutil.P256), []string{"a.example"}, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestIssueNilKey(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	_, err := ca.Issue(context.Background(), nil, []string{"a.example"}, nil)
	require.ErrorContains(t, err, "nil key")
}

func TestIssueSerialsDiffer(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	a := issue(t, ca, "a.example").Leaf
	b := issue(t, ca, "a.example").Leaf
	require.NotEqual(t, a.SerialNumber, b.SerialNumber)
}

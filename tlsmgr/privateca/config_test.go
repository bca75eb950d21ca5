package privateca_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// selfSigned makes a self-signed certificate from tmpl and returns it and
// its key as PEM.
func selfSigned(t *testing.T, tmpl *x509.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	key := keyOf(t, certutil.P256)
	tmpl.SerialNumber = big.NewInt(1)
	if tmpl.Subject.CommonName == "" {
		tmpl.Subject = pkix.Name{CommonName: "test CA"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	keyPEM, err = certutil.EncodeKey(key)
	require.NoError(t, err)
	return certutil.EncodeChain([][]byte{der}), keyPEM
}

// gen calls privateca.Generate, failing the test on error.
func gen(t *testing.T, name string, lifetime time.Duration) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := privateca.Generate(name, lifetime)
	require.NoError(t, err)
	return certPEM, keyPEM
}

// generateAt makes a CA valid from notBefore to notAfter.
func generateAt(t *testing.T, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	return selfSigned(t, &x509.Certificate{
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	})
}

func TestNewConfigErrors(t *testing.T) {
	now := time.Now()
	caPEM, caKey := gen(t, "", 0)
	otherPEM, otherKey := gen(t, "other", 0)
	leafPEM, leafKey := selfSigned(t, &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	noSignPEM, noSignKey := selfSigned(t, &x509.Certificate{
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	serverOnlyPEM, serverOnlyKey := selfSigned(t, &x509.Certificate{
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	expiry := now.Add(-time.Minute).Truncate(time.Second)
	expiredPEM, expiredKey := generateAt(t, now.Add(-48*time.Hour), expiry)
	garbage := []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")

	tests := []struct {
		name  string
		cfg   privateca.Config
		field string
		want  []string // substrings of the error, besides the field
	}{
		{"cert without key", privateca.Config{CertPEM: caPEM}, "Config.KeyPEM", []string{"missing while Config.CertPEM is set", "give the CA private key"}},
		{"key without cert", privateca.Config{KeyPEM: caKey}, "Config.KeyPEM", []string{"set without Config.CertPEM"}},
		{"mismatched key", privateca.Config{CertPEM: caPEM, KeyPEM: otherKey}, "Config.KeyPEM", []string{"does not match", "give the private key of that CA"}},
		{"garbage key", privateca.Config{CertPEM: caPEM, KeyPEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, "Config.KeyPEM", []string{"cannot parse private key"}},
		{"non-PEM key", privateca.Config{CertPEM: caPEM, KeyPEM: []byte("secret")}, "Config.KeyPEM", []string{"no private key PEM block"}},
		{"non-CA cert", privateca.Config{CertPEM: leafPEM, KeyPEM: leafKey}, "Config.CertPEM", []string{"is not a CA", "privateca.Generate"}},
		{"CA without certSign", privateca.Config{CertPEM: noSignPEM, KeyPEM: noSignKey}, "Config.CertPEM", []string{"lacks the certSign key usage"}},
		{"CA restricted to serverAuth", privateca.Config{CertPEM: serverOnlyPEM, KeyPEM: serverOnlyKey}, "Config.CertPEM", []string{"without serverAuth and clientAuth"}},
		{"expired CA", privateca.Config{CertPEM: expiredPEM, KeyPEM: expiredKey}, "Config.CertPEM", []string{"expired at " + expiry.UTC().Format(time.RFC3339), "give a current CA"}},
		{"garbage PEM", privateca.Config{CertPEM: garbage, KeyPEM: caKey}, "Config.CertPEM", []string{"cannot parse certificate"}},
		{"not PEM", privateca.Config{CertPEM: []byte("hello"), KeyPEM: caKey}, "Config.CertPEM", []string{"no certificate", "PEM"}},
		{"two certificates", privateca.Config{CertPEM: append(append([]byte{}, caPEM...), otherPEM...), KeyPEM: caKey}, "Config.CertPEM", []string{"holds 2 certificates", "Config.Trust"}},
		{"garbage trust", privateca.Config{Trust: [][]byte{caPEM, garbage}}, "Config.Trust[1]", []string{"cannot parse certificate"}},
		{"non-CA trust", privateca.Config{Trust: [][]byte{leafPEM}}, "Config.Trust[0]", []string{"is not a CA"}},
		{"expired trust", privateca.Config{Trust: [][]byte{expiredPEM}}, "Config.Trust[0]", []string{"expired at"}},
		{"negative leaf lifetime", privateca.Config{LeafLifetime: -time.Hour}, "Config.LeafLifetime", []string{"negative duration -1h0m0s", "positive duration"}},
		{"negative CA lifetime", privateca.Config{CALifetime: -1}, "Config.CALifetime", []string{"negative duration"}},
		{"long name", privateca.Config{Name: strings.Repeat("n", 65)}, "Config.Name", []string{"65 bytes long", "at most 64"}},
	}
	secrets := [][]byte{caKey, otherKey, leafKey, noSignKey, serverOnlyKey, expiredKey}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := privateca.New(tt.cfg)
			require.Error(t, err)
			require.Nil(t, ca)
			var ce *privateca.ConfigError
			require.True(t, errors.As(err, &ce), "error %T is a *ConfigError", err)
			require.Equal(t, tt.field, ce.Field)
			require.True(t, strings.HasPrefix(err.Error(), "privateca: "+tt.field+": "), err.Error())
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			requireNoSecrets(t, err.Error(), secrets...)
		})
	}
}

// requireNoSecrets fails if msg quotes any base64 line of the key PEMs.
func requireNoSecrets(t *testing.T, msg string, keys ...[]byte) {
	t.Helper()
	for _, k := range keys {
		for _, line := range strings.Split(string(k), "\n") {
			if len(line) < 16 || strings.HasPrefix(line, "-----") {
				continue
			}
			require.NotContains(t, msg, line[:16], "error quotes key material")
		}
	}
	require.NotContains(t, msg, "PRIVATE KEY-----")
}

func TestNewFromExistingCA(t *testing.T) {
	certPEM, keyPEM := gen(t, "fleet CA", 24*time.Hour)
	a := newCA(t, privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})
	b := newCA(t, privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})

	require.Equal(t, "fleet CA", a.Certificate().Subject.CommonName)
	require.Equal(t, a.IssuerKey(), b.IssuerKey())
	require.Equal(t, certPEM, a.CertPEM())
	require.Equal(t, certPEM, a.BundlePEM())
	gotKey, err := a.KeyPEM()
	require.NoError(t, err)
	k1, err := certutil.DecodeKey(gotKey)
	require.NoError(t, err)
	require.True(t, certutil.KeyMatches(k1, a.Certificate().PublicKey))
}

func TestNewGeneratesCA(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		cfg      privateca.Config
		wantCN   string
		lifetime time.Duration
	}{
		{"defaults", privateca.Config{}, "nats-autotls private CA", 10 * 365 * 24 * time.Hour},
		{"named", privateca.Config{Name: "dev", CALifetime: 30 * 24 * time.Hour}, "dev", 30 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Now = func() time.Time { return now }
			c := newCA(t, tt.cfg).Certificate()
			require.Equal(t, tt.wantCN, c.Subject.CommonName)
			require.True(t, c.IsCA)
			require.True(t, c.MaxPathLenZero)
			require.NotZero(t, c.KeyUsage&x509.KeyUsageCertSign)
			require.Equal(t, certutil.P256, certutil.KeyTypeOf(c.PublicKey))
			require.Equal(t, now.Add(tt.lifetime), c.NotAfter)
			require.True(t, c.NotBefore.Before(now))
			require.NotEmpty(t, c.SubjectKeyId)
		})
	}
}

func TestNewEmptyPEMMeansGenerate(t *testing.T) {
	ca := newCA(t, privateca.Config{CertPEM: []byte{}, KeyPEM: []byte{}})
	require.Equal(t, privateca.DefaultName, ca.Certificate().Subject.CommonName)
}

func TestGenerateErrors(t *testing.T) {
	_, _, err := privateca.Generate("", -time.Second)
	require.ErrorContains(t, err, "Config.CALifetime: negative duration")
	_, _, err = privateca.Generate(strings.Repeat("x", 100), 0)
	require.ErrorContains(t, err, "Config.Name")
}

func TestIssuerKey(t *testing.T) {
	a := newCA(t, privateca.Config{})
	b := newCA(t, privateca.Config{})
	require.Regexp(t, `^privateca-[0-9a-f]{16}$`, a.IssuerKey())
	require.NotEqual(t, a.IssuerKey(), b.IssuerKey())
}

func TestKeyPEMIsNotInBundle(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	require.NotContains(t, string(ca.BundlePEM()), "PRIVATE KEY")
	require.NotContains(t, string(ca.CertPEM()), "PRIVATE KEY")
}

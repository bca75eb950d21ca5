package privateca

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseSigner feeds CA certificates and keys (stored, or given by an
// operator) to parseSigner and parseCAs: no panic, a CA is returned only
// with a key that matches it, and an error never quotes the key.
func FuzzParseSigner(f *testing.F) {
	certPEM, keyPEM, err := Generate("fuzz seed CA", 24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(certPEM, keyPEM)
	f.Add(certPEM, []byte("-----BEGIN PRIVATE KEY-----\nSECRETSECRETSECRETSECRET\n-----END PRIVATE KEY-----\n"))
	f.Add(append(append([]byte{}, certPEM...), certPEM...), keyPEM)
	f.Add([]byte("not pem"), []byte{})
	now := time.Now()
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		_, _ = parseCAs(certPEM, "Config.CACertPEM", now)
		s, err := parseSigner(certPEM, keyPEM, "Config.CACertPEM", "Config.CAKeyPEM", now)
		if err != nil {
			if body := pemBody(string(keyPEM)); len(body) >= 16 && strings.Contains(err.Error(), body) {
				t.Fatalf("the error quotes the key: %v", err)
			}
			return
		}
		if s.cert == nil || s.key == nil || !s.cert.IsCA {
			t.Fatalf("a signer that is not a CA with its key: %+v", s)
		}
	})
}

// pemBody returns the text between the first PEM armour lines of s.
func pemBody(s string) string {
	if i := strings.Index(s, "-----\n"); i >= 0 {
		s = s[i+len("-----\n"):]
	}
	if j := strings.Index(s, "\n-----END"); j >= 0 {
		s = s[:j]
	}
	return strings.TrimSpace(s)
}

package tlsmgr

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// FuzzDecodeStored feeds stored certificate values (read back from a
// directory or a KV bucket that anyone with write access could have
// changed) to decodeStored: no panic, and an error never quotes the
// private key.
func FuzzDecodeStored(f *testing.F) {
	key, err := certutil.GenerateKey(certutil.P256)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "seed"}, DNSNames: []string{"seed.example"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		f.Fatal(err)
	}
	v, err := newVersion([][]byte{der}, key, "seed-issuer")
	if err != nil {
		f.Fatal(err)
	}
	good, err := encodeStored([]string{"seed.example"}, v, renewState{}, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":1,"chain_pem":"","key_pem":"-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"}`))
	f.Add([]byte(`{"format":99}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, sc, err := decodeStored(data)
		if err != nil {
			if v != nil || sc != nil {
				t.Fatal("a value with an error")
			}
			if k := keyBody(data); len(k) >= 16 && strings.Contains(err.Error(), k) {
				t.Fatalf("the error quotes the key: %v", err)
			}
			return
		}
		if v.cert == nil || len(v.cert.Certificate) == 0 {
			t.Fatal("decoded without a certificate")
		}
	})
}

// keyBody returns the text between the key's PEM armour lines in data, if
// any, as stored (JSON-escaped).
func keyBody(data []byte) string {
	s := string(data)
	i := strings.Index(s, "PRIVATE KEY-----")
	if i < 0 {
		return ""
	}
	s = s[i+len("PRIVATE KEY-----"):]
	if j := strings.Index(s, "-----END"); j >= 0 {
		s = s[:j]
	}
	return strings.Trim(s, `\n"`)
}

// FuzzReadLock feeds lock files (left by another process, possibly half
// written or damaged) to readLock: no panic, and an unreadable record is an
// error, never a lock that looks held.
func FuzzReadLock(f *testing.F) {
	f.Add([]byte(`{"holder":"host-1 pid 42","created":"2026-11-30T12:00:00Z","expires":"2026-11-30T12:01:00Z"}`))
	f.Add([]byte(`{"holder":"h","created":"2026-11-30T12:00:00Z","expires":"9999-12-31T23:59:59Z","process":{"host":"h","pid":1}}`))
	f.Add([]byte(`{"expires":"not a time"}`))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := dir + "/lock"
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rec, _, err := readLock(path)
		if err != nil && (rec.Holder != "" || !rec.Expires.IsZero()) && len(data) == 0 {
			t.Fatalf("an empty lock file gave a record: %+v", rec)
		}
	})
}

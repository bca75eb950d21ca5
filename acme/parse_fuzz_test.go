package acme

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
)

// FuzzRenewalInfo feeds ARI answers (RFC 9773, from the network) to the
// decoder and the window check: no panic, and a window is either no advice
// (both zero) or starts before it ends.
func FuzzRenewalInfo(f *testing.F) {
	f.Add([]byte(`{"suggestedWindow":{"start":"2027-01-28T02:16:40Z","end":"2027-01-30T02:16:40Z"}}`))
	f.Add([]byte(`{"suggestedWindow":{"start":"2027-01-30T02:16:40Z","end":"2027-01-28T02:16:40Z"}}`))
	f.Add([]byte(`{"suggestedWindow":{}}`))
	f.Add([]byte(`<html>503</html>`))
	f.Add([]byte(`{"suggestedWindow":{"start":"0001-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z"},"explanationURL":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var info renewalInfo
		if json.Unmarshal(data, &info) != nil {
			return
		}
		start, end := info.window()
		if start.IsZero() != end.IsZero() {
			t.Fatalf("half a window: %v, %v", start, end)
		}
		if !start.IsZero() && !end.After(start) {
			t.Fatalf("inverted window: %v, %v", start, end)
		}
	})
}

// FuzzDirectory feeds ACME directories (from the network) to the decoder
// and the checks against the configuration: no panic, and a profile the
// directory does not list is refused with a *ConfigError.
func FuzzDirectory(f *testing.F) {
	f.Add([]byte(`{"newOrder":"https://ca/o","renewalInfo":"https://ca/ari","meta":{"profiles":{"classic":"90 days","shortlived":"6 days"},"externalAccountRequired":true}}`), "shortlived")
	f.Add([]byte(`{"meta":{"profiles":{}}}`), "classic")
	f.Add([]byte(`{"meta":{"profiles":null,"caaIdentities":["letsencrypt.org"]}}`), "")
	f.Add([]byte(`[]`), "x")
	f.Fuzz(func(t *testing.T, data []byte, profile string) {
		var dir directory
		if json.Unmarshal(data, &dir) != nil {
			return
		}
		i := &Issuer{cfg: Config{Profile: profile, EAB: &ExternalAccountBinding{KeyID: "k", HMACKey: "aGk"}}}
		err := i.checkDirectory(&dir, &account{})
		_, listed := dir.Meta.Profiles[profile]
		if profile != "" && len(dir.Meta.Profiles) > 0 && !listed {
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("profile %q not in %v accepted: %v", profile, dir.Meta.Profiles, err)
			}
		}
	})
}

// memStorage is a Storage holding one value.
type memStorage struct{ data []byte }

func (m memStorage) Load(context.Context, string) ([]byte, error) {
	if m.data == nil {
		return nil, fs.ErrNotExist
	}
	return m.data, nil
}

func (memStorage) Store(context.Context, string, []byte) error { return nil }

// FuzzStoredAccount feeds stored ACME account records (a file anyone with
// write access to the storage could have changed) to the loader: no panic,
// and an error never quotes the key.
func FuzzStoredAccount(f *testing.F) {
	f.Add([]byte(`{"email":"a@example.com","uri":"https://ca/acct/1","body":{"status":"valid"},"key":"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgc/rmxvqT1K2eycgC\nL8LnSgTGFQU5tPevXzGt93hp4V+hRANCAAQ6jgY4N4cGGUMKrxbBYMRj0dlKYJXl\nxr7LJd7Jk1Xg6JXeKkmIXxKpluewge8iGjLe4M+P6cQSoSrSe7mDx3ZH\n-----END PRIVATE KEY-----\n"}`))
	f.Add([]byte(`{"key":"-----BEGIN PRIVATE KEY-----\nSECRETSECRETSECRET\n-----END PRIVATE KEY-----\n"}`))
	f.Add([]byte(`{"uri":5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		i := &Issuer{cfg: Config{Storage: memStorage{data}}, key: "fuzz"}
		acct, err := i.readAccount(context.Background())
		if err != nil {
			var rec accountRecord
			if json.Unmarshal(data, &rec) == nil && len(rec.Key) >= 16 && strings.Contains(err.Error(), strings.TrimSpace(rec.Key)) {
				t.Fatalf("the error quotes the key: %v", err)
			}
			return
		}
		if acct.key == nil {
			t.Fatal("an account without a key")
		}
	})
}

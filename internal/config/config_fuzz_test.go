package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds nats.conf files with an autotls block to Load: no panic,
// whatever the file says. Secret files and includes are not followed (the
// fuzzer must not read the machine's files).
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"port: 4222\nautotls {\n  names: [a.example.com, \"*.a.example.com\"]\n  storage: /var/lib/x\n}\n",
		"autotls {\n  acme { directory: letsencrypt, agree_tos: true, email: ops@example.com, eab { kid: k1, hmac_key: c2VjcmV0 } }\n  dns { provider: cloudflare, settings { api_token: t } }\n  renew_before: 720h\n}\n",
		"autotls {\n  roles { websocket { names: [ws.example.com] } }\n  ca { cert_file: /nonexistent }\n  kv { url: \"nats://127.0.0.1:4222\", bucket: certs }\n}\n",
		"autotls { acme { eab { kid: k } } }\n",
		"autotls: 5\n",
		"autotls {\n  stroage: /x\n}\n",
		"websocket { port: 443, advertise: \"ws.example.com:443\" }\nserver_name: n1.example.com\nautotls {}\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("include")) {
			t.Skip("includes read other files")
		}
		path := filepath.Join(dir, "nats.conf")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		read := func(p string) ([]byte, error) {
			if p == path {
				return data, nil
			}
			return nil, errors.New("fuzz: no other files")
		}
		_, _ = Load(Input{ConfigFile: path, ReadFile: read})
	})
}

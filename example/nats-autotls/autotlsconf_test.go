package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/internal/testbin"
)

// The acceptance tests of the operator configuration run the built binary
// as a subprocess against Pebble and the DNS server of this test process.

const (
	tsigKey    = "autotls-acceptance."
	tsigSecret = "YWNjZXB0YW5jZS10ZXN0LXRzaWctc2VjcmV0LTMyYg=="
)

var confLabels atomic.Int64

// confName returns a fresh name under example.test (the DNS server is
// shared by the test binary).
func confName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d.example.test", prefix, os.Getpid(), confLabels.Add(1))
}

// acmeEnv is what every run needs: Pebble, its DNS server with a TSIG key,
// and files with the directory's root and the TSIG secret.
type acmeEnv struct {
	ca               *acmetest.CA
	dir              string
	rootsPEM, secret string
}

func newACMEEnv(t *testing.T) *acmeEnv {
	t.Helper()
	ca := acmetest.New(t, acmetest.Options{})
	ca.DNS.SetTSIGKey(tsigKey, tsigSecret)
	dir := t.TempDir()
	e := &acmeEnv{ca: ca, dir: dir, rootsPEM: filepath.Join(dir, "roots.pem"), secret: filepath.Join(dir, "tsig.secret")}
	require.NoError(t, os.WriteFile(e.rootsPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.DirectoryCert.Raw}), 0o600))
	require.NoError(t, os.WriteFile(e.secret, []byte(tsigSecret+"\n"), 0o600))
	return e
}

// baseEnv is a clean environment for the child: nothing of the test's.
func baseEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
}

// startConf runs the binary with env and args and waits until it is
// ready.
func startConf(t *testing.T, env []string, args ...string) *testbin.Process {
	t.Helper()
	_, bin := parityBinaries(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(t), env...)
	p := testbin.StartCmd(t, parityWait, cmd)
	p.WaitForAny(t, "nats-autotls ready")
	return p
}

// served connects a NATS client to port and returns the leaf certificate
// it received, verified against Pebble's roots for name.
func served(t *testing.T, e *acmeEnv, port int, name string) *x509.Certificate {
	t.Helper()
	var leaf *x509.Certificate
	nc, err := nats.Connect(fmt.Sprintf("tls://127.0.0.1:%d", port), nats.Secure(&tls.Config{
		RootCAs: e.ca.Roots(t), ServerName: name,
		VerifyConnection: func(cs tls.ConnectionState) error { leaf = cs.PeerCertificates[0]; return nil },
	}), nats.Timeout(10*time.Second), nats.NoReconnect())
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Flush())
	return leaf
}

// statusNames returns the names and issuers of the certificates in the
// status output, sorted, for comparison between runs.
func statusNames(t *testing.T, addr string) []string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var rep struct {
		Certificates []struct {
			Roles  []string `json:"roles"`
			Names  []string `json:"names"`
			Issuer string   `json:"issuer"`
		} `json:"certificates"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	var out []string
	for _, c := range rep.Certificates {
		issuer := c.Issuer
		if strings.HasPrefix(issuer, "privateca-") {
			issuer = "privateca" // each run's storage has its own private CA
		}
		out = append(out, fmt.Sprintf("%v %v %s", c.Roles, c.Names, issuer))
	}
	slices.Sort(out)
	return out
}

// One deployment (a name and its wildcard from Pebble through the rfc2136
// provider, the status endpoint) written three ways gives the same
// certificates and the same status; then conflicting values show the
// precedence: flags over environment over file.
func TestConfigThreeWays(t *testing.T) {
	e := newACMEEnv(t)
	name := confName("three")
	dnsAddr := e.ca.DNS.Addr()

	block := func(port, status int, storage string) string {
		return fmt.Sprintf(`host: 127.0.0.1
port: %d
autotls {
  names: [%q, "*.%s"]
  storage: %q
  status: "127.0.0.1:%d"
  acme { directory: %q, agree_tos: true, email: "ops@example.com", roots: %q }
  dns {
    provider: rfc2136
    resolvers: [%q]
    polling_interval: "50ms"
    settings { nameserver: %q, tsig_key: %q, tsig_secret_file: %q, tsig_algorithm: "hmac-sha256.", sequence_interval: "1ms" }
  }
}
`, port, name, name, storage, status, e.ca.DirectoryURL, e.rootsPEM, dnsAddr, dnsAddr, tsigKey, e.secret)
	}
	envFor := func(status int, storage string) []string {
		return []string{
			"NATS_AUTOTLS_NAMES=" + name + ",*." + name,
			"NATS_AUTOTLS_STORAGE=" + storage,
			fmt.Sprintf("NATS_AUTOTLS_STATUS=127.0.0.1:%d", status),
			"NATS_AUTOTLS_ACME_DIRECTORY=" + e.ca.DirectoryURL,
			"NATS_AUTOTLS_ACME_AGREE_TOS=true",
			"NATS_AUTOTLS_ACME_EMAIL=ops@example.com",
			"NATS_AUTOTLS_ACME_ROOTS=" + e.rootsPEM,
			"NATS_AUTOTLS_DNS_PROVIDER=rfc2136",
			"NATS_AUTOTLS_DNS_RESOLVERS=" + dnsAddr,
			"NATS_AUTOTLS_DNS_POLLING_INTERVAL=50ms",
			"NATS_AUTOTLS_DNS_SETTINGS_NAMESERVER=" + dnsAddr,
			"NATS_AUTOTLS_DNS_SETTINGS_TSIG_KEY=" + tsigKey,
			"NATS_AUTOTLS_DNS_SETTINGS_TSIG_SECRET_FILE=" + e.secret,
			"NATS_AUTOTLS_DNS_SETTINGS_TSIG_ALGORITHM=hmac-sha256.",
			"NATS_AUTOTLS_DNS_SETTINGS_SEQUENCE_INTERVAL=1ms",
		}
	}
	flagsFor := func(status int, storage string) []string {
		return []string{
			"-autotls_names", name + ",*." + name,
			"-autotls_storage", storage,
			"-autotls_status", fmt.Sprintf("127.0.0.1:%d", status),
			"-autotls_acme", e.ca.DirectoryURL, "-autotls_agree_tos", "-autotls_email", "ops@example.com",
			"-autotls_acme_roots", e.rootsPEM,
			"-autotls_dns_provider", "rfc2136", "-autotls_dns_resolvers", dnsAddr,
			"-autotls_dns_polling_interval", "50ms",
			"-autotls_dns_setting", "nameserver=" + dnsAddr, "-autotls_dns_setting", "tsig_key=" + tsigKey,
			"-autotls_dns_setting", "tsig_secret_file=" + e.secret, "-autotls_dns_setting", "tsig_algorithm=hmac-sha256.",
			"-autotls_dns_setting", "sequence_interval=1ms",
		}
	}

	var statuses [][]string
	for _, way := range []string{"file", "env", "flags"} {
		t.Run(way, func(t *testing.T) {
			port, status, storage := freePort(t), freePort(t), t.TempDir()
			conf := filepath.Join(t.TempDir(), "nats.conf")
			var env, args []string
			switch way {
			case "file":
				require.NoError(t, os.WriteFile(conf, []byte(block(port, status, storage)), 0o600))
			case "env":
				require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n", port), 0o600))
				env = envFor(status, storage)
			case "flags":
				require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n", port), 0o600))
				args = flagsFor(status, storage)
			}
			startConf(t, env, append([]string{"-c", conf}, args...)...)
			leaf := served(t, e, port, name)
			require.NoError(t, leaf.VerifyHostname("x."+name), "the wildcard is served")
			require.NoError(t, leaf.VerifyHostname(name))
			statuses = append(statuses, statusNames(t, fmt.Sprintf("127.0.0.1:%d", status)))
		})
	}
	require.Len(t, statuses, 3)
	require.Equal(t, statuses[0], statuses[1], "file and env give the same status")
	require.Equal(t, statuses[0], statuses[2], "file and flags give the same status")

	t.Run("precedence", func(t *testing.T) {
		port, status := freePort(t), freePort(t)
		fileName, envName, flagName := confName("file"), confName("env"), confName("flag")
		conf := filepath.Join(t.TempDir(), "nats.conf")
		fileStorage, envStorage := t.TempDir(), t.TempDir()
		text := strings.Replace(block(port, status, fileStorage), fmt.Sprintf("names: [%q, \"*.%s\"]", name, name), fmt.Sprintf("names: [%q]", fileName), 1)
		require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))
		env := []string{"NATS_AUTOTLS_NAMES=" + envName, "NATS_AUTOTLS_STORAGE=" + envStorage}
		startConf(t, env, "-c", conf, "-autotls_names", flagName)
		leaf := served(t, e, port, flagName)
		require.Equal(t, []string{flagName}, leaf.DNSNames, "the flag wins over the environment and the file")
		_, err := os.Stat(filepath.Join(envStorage, "ca-bundle.pem"))
		require.NoError(t, err, "the environment's storage wins over the file's")
		entries, _ := os.ReadDir(fileStorage)
		require.Empty(t, entries, "the file's storage is unused")
	})
}

// httpreqEndpoint is lego's httpreq API over the test DNS server.
func httpreqEndpoint(t *testing.T, e *acmeEnv) (url string, calls *atomic.Int32) {
	calls = new(atomic.Int32)
	p := e.ca.DNS.Provider()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var msg struct{ FQDN, Value string }
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := []libdns.Record{libdns.TXT{Name: libdns.RelativeName(msg.FQDN, "example.test."), TTL: time.Minute, Text: msg.Value}}
		var err error
		if strings.HasSuffix(r.URL.Path, "/present") {
			_, err = p.AppendRecords(r.Context(), "example.test.", rec)
		} else {
			_, err = p.DeleteRecords(r.Context(), "example.test.", rec)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/dns", calls
}

func TestConfigHTTPReqWildcard(t *testing.T) {
	e := newACMEEnv(t)
	url, calls := httpreqEndpoint(t, e)
	name, port := confName("httpreq"), freePort(t)
	conf := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, `host: 127.0.0.1
port: %d
autotls {
  names: [%q, "*.%s"]
  storage: %q
  key_type: p384
  acme { directory: %q, agree_tos: true, roots: %q }
  dns { provider: httpreq, resolvers: [%q], polling_interval: 50ms, settings { endpoint: %q } }
}
`, port, name, name, t.TempDir(), e.ca.DirectoryURL, e.rootsPEM, e.ca.DNS.Addr(), url), 0o600))
	startConf(t, nil, "-c", conf)
	leaf := served(t, e, port, name)
	require.NoError(t, leaf.VerifyHostname("any."+name))
	require.EqualValues(t, 4, calls.Load(), "two presents and two cleanups")
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok)
	require.Equal(t, elliptic.P384(), pub.Curve, "key_type is honoured")
}

// SIGHUP reads the autotls block again: an unchanged block reloads, a bad
// one is refused with its file and line, and a changed name is refused
// with its source (the running manager cannot take it) instead of being
// dropped; the server keeps serving throughout.
func TestConfigSIGHUP(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	write := func(block string) {
		require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\nautotls {\n%s\n}\n", port, block), 0o600))
	}
	write(fmt.Sprintf("  names: [localhost]\n  storage: %q", filepath.Join(dir, "storage")))
	p := startConf(t, nil, "-c", conf)

	hup := func() { require.NoError(t, p.Cmd.Process.Signal(syscall.SIGHUP)) }
	hup()
	p.WaitFor(t, "[INF] reloaded", 1)

	write("  names: [localhost]\n  stroage: /x")
	hup()
	line := p.WaitFor(t, "reload failed", 1)
	require.Contains(t, line, "nats.conf:5")
	require.Contains(t, line, "autotls.stroage")

	write(fmt.Sprintf("  names: [localhost, other.example.test]\n  storage: %q", filepath.Join(dir, "storage")))
	hup()
	line = p.WaitFor(t, "reload failed", 2)
	require.Contains(t, line, "Names (")
	require.Contains(t, line, "nats.conf:4")
	require.Contains(t, line, "restart")

	nc, err := nats.Connect(fmt.Sprintf("tls://localhost:%d", port), nats.Secure(&tls.Config{InsecureSkipVerify: true}), nats.NoReconnect())
	require.NoError(t, err, "still serving")
	nc.Close()
}

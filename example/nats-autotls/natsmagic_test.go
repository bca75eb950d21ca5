package main

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/testbin"
)

const remoteAccount = "ADNU2QRXBD4ZKPJBX2W4GPYIZPJNU25IVC67TPARE22755KLN4JSJRQH"

// magicDoc is natsmagic README's advanced example adapted to Pebble and
// the rfc2136 provider on loopback: the same fields, listeners and leafnode
// remote with its remote user.
func magicDoc(t *testing.T, e *acmeEnv, name string, port, wsPort, mqttPort, leafPort int) string {
	t.Helper()
	doc := map[string]any{
		"domains":                  []string{name},
		"letsencrypt_email":        "admin@example.com",
		"letsencrypt_ca":           e.ca.DirectoryURL,
		"letsencrypt_data_dir":     t.TempDir(),
		"letsencrypt_dns_provider": "rfc2136",
		"letsencrypt_dns_auth": map[string]string{
			"dnsupdate_nameserver": e.ca.DNS.Addr(), "dnsupdate_tsig_key": tsigKey, "dnsupdate_tsig_secret": tsigSecret,
			"dnsupdate_tsig_algorithm": "hmac-sha256.", "dnsupdate_sequence_interval": "1ms",
		},
		"remote_users": map[string]any{
			remoteAccount: map[string]string{"nkey": "SUAMAGICREMOTEUSERSEEDFORTHETEST", "token": "eyJ0eXAiOiJKV1QifQ.e30.c2ln"},
		},
		"logging_preset": "development",
		"nats_config": map[string]any{
			"server_name": "leaf-01",
			"port":        port,
			"host":        "127.0.0.1",
			"jetstream":   map[string]any{"store_dir": t.TempDir()},
			"websocket":   map[string]any{"host": "127.0.0.1", "port": wsPort},
			"mqtt":        map[string]any{"host": "127.0.0.1", "port": mqttPort},
			"accounts":    map[string]any{remoteAccount: map[string]any{}},
			"leafnodes": map[string]any{"remotes": []any{map[string]any{
				"url": fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort), "account": remoteAccount,
			}}},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	return string(b)
}

// magicEnv is what natsmagic had no setting for: trust in the test CA's
// directory and the test DNS server as resolver.
func magicEnv(e *acmeEnv) []string {
	return []string{
		"NATS_AUTOTLS_ACME_ROOTS=" + e.rootsPEM,
		"NATS_AUTOTLS_DNS_RESOLVERS=" + e.ca.DNS.Addr(),
		"NATS_AUTOTLS_DNS_POLLING_INTERVAL=50ms",
	}
}

// handshake returns the leaf certificate a TLS listener at port serves.
func handshake(t *testing.T, e *acmeEnv, port int, name string) *tls.ConnectionState {
	t.Helper()
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: e.ca.Roots(t), ServerName: name})
	require.NoError(t, err)
	defer conn.Close()
	cs := conn.ConnectionState()
	return &cs
}

func TestNatsmagicReadmeFile(t *testing.T) {
	e := newACMEEnv(t)
	name := confName("magic")
	port, wsPort, mqttPort, leafPort := freePort(t), freePort(t), freePort(t), freePort(t)
	file := filepath.Join(t.TempDir(), "leaf-01.natsmagic.json")
	require.NoError(t, os.WriteFile(file, []byte(magicDoc(t, e, name, port, wsPort, mqttPort, leafPort)), 0o600))
	tmp := t.TempDir()

	_, bin := parityBinaries(t)
	cmd := exec.Command(bin)
	cmd.Env = append(append(baseEnv(t), magicEnv(e)...), "NATS_MAGIC_FILE="+file, "TMPDIR="+tmp)
	p := testbin.StartCmd(t, parityWait, cmd)
	p.WaitForAny(t, "nats-autotls ready")

	leaf := served(t, e, port, name)
	require.Equal(t, []string{name}, leaf.DNSNames)
	for what, port := range map[string]int{"websocket": wsPort, "mqtt": mqttPort} {
		cs := handshake(t, e, port, name)
		require.Equal(t, []string{name}, cs.PeerCertificates[0].DNSNames, what)
	}

	creds, err := filepath.Glob(filepath.Join(tmp, "nats-autotls-creds-*", remoteAccount+".creds"))
	require.NoError(t, err)
	require.Len(t, creds, 1, "the remote user's credentials")
	info, err := os.Stat(creds[0])
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dir, err := os.Stat(filepath.Dir(creds[0]))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), dir.Mode().Perm())

	require.NoError(t, p.Cmd.Process.Signal(syscall.SIGTERM))
	<-p.Done()
	_, err = os.Stat(filepath.Dir(creds[0]))
	require.True(t, os.IsNotExist(err), "the credentials are removed on exit")
	require.NotContains(t, p.Output(), tsigSecret, "a DNS credential in no log line")
}

func TestNatsmagicEnvOnly(t *testing.T) {
	e := newACMEEnv(t)
	name, port := confName("magicenv"), freePort(t)
	env := append(magicEnv(e),
		"NATS_MAGIC_DOMAINS="+name,
		"NATS_MAGIC_EMAIL=admin@example.com",
		"NATS_MAGIC_CA="+e.ca.DirectoryURL,
		"NATS_MAGIC_PROVIDER=rfc2136",
		"DNSUPDATE_NAMESERVER="+e.ca.DNS.Addr(),
		"DNSUPDATE_TSIG_KEY="+tsigKey,
		"DNSUPDATE_TSIG_SECRET_FILE="+e.secret,
		"DNSUPDATE_TSIG_ALGORITHM=hmac-sha256.",
		"DNSUPDATE_SEQUENCE_INTERVAL=1ms",
	)
	startConf(t, env, "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	require.Equal(t, []string{name}, served(t, e, port, name).DNSNames)
}

// magicServer is a natsmagic config server over TLS.
type magicServer struct {
	srv    *httptest.Server
	pub    string
	doc    string
	submit string // submit_url to hand out; default the server's /submit

	mu   sync.Mutex
	urls []string
	hits int
}

func newMagicServer(t *testing.T, pub, doc string) *magicServer {
	m := &magicServer{pub: pub, doc: doc}
	m.srv = httptest.NewTLSServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *magicServer) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.urls = append(m.urls, r.URL.String())
	m.hits++
	submit := m.submit
	m.mu.Unlock()
	if submit == "" {
		submit = m.srv.URL + "/submit"
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/"+m.pub:
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"submit_url": submit, "nonce": "n-42"})
	case r.Method == http.MethodPost && r.URL.Path == "/submit":
		var rep struct{ Signature, Nonce string }
		_ = json.NewDecoder(r.Body).Decode(&rep)
		sig, err := base64.RawURLEncoding.DecodeString(rep.Signature)
		kp, _ := nkeys.FromPublicKey(m.pub)
		if err != nil || kp.Verify([]byte(rep.Nonce), sig) != nil {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(m.doc))
	default:
		http.NotFound(w, r)
	}
}

// certFile writes the server's certificate for the child to trust.
func (m *magicServer) certFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "magic.pem")
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.srv.Certificate().Raw}), 0o600))
	return p
}

// runToExit runs the binary and returns its exit code and output.
func runToExit(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	_, bin := parityBinaries(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(t), env...)
	p := testbin.StartCmd(t, parityWait, cmd)
	select {
	case <-p.Done():
	case <-time.After(parityWait):
		t.Fatalf("nats-autotls did not exit: %s", p.Output())
	}
	return p.Cmd.ProcessState.ExitCode(), p.Output()
}

func TestNatsmagicConfigServer(t *testing.T) {
	e := newACMEEnv(t)
	kp, err := nkeys.CreateServer()
	require.NoError(t, err)
	seedB, _ := kp.Seed()
	seed := string(seedB)
	pub, _ := kp.PublicKey()
	name := confName("magicsrv")
	port := freePort(t)
	doc := magicDoc(t, e, name, port, freePort(t), freePort(t), freePort(t))
	m := newMagicServer(t, pub, doc)
	trust := "SSL_CERT_FILE=" + m.certFile(t)
	home := t.TempDir()

	t.Run("good seed", func(t *testing.T) {
		_, bin := parityBinaries(t)
		cmd := exec.Command(bin)
		cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + home}, magicEnv(e)...),
			trust, "NATS_MAGIC_URL="+m.srv.URL, "NATS_MAGIC_SERVER="+seed)
		p := testbin.StartCmd(t, parityWait, cmd)
		p.WaitForAny(t, "nats-autotls ready")
		require.Equal(t, []string{name}, served(t, e, port, name).DNSNames)
		require.NoError(t, p.Cmd.Process.Signal(syscall.SIGTERM))
		<-p.Done()
		require.NotContains(t, p.Output(), seed, "the seed is in no log line")
	})
	t.Run("seed nowhere", func(t *testing.T) {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, u := range m.urls {
			require.NotContains(t, u, seed, "the seed is in no URL")
		}
		require.NoError(t, filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(path)
			require.NotContains(t, string(b), seed, "the seed is in no file: %s", path)
			return nil
		}))
	})
	t.Run("wrong seed", func(t *testing.T) {
		other, _ := nkeys.CreateServer()
		otherSeed, _ := other.Seed()
		code, out := runToExit(t, append(magicEnv(e), trust, "NATS_MAGIC_URL="+m.srv.URL, "NATS_MAGIC_SERVER="+string(otherSeed)))
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "config server")
		require.NotContains(t, out, string(otherSeed))
		require.NotContains(t, out, "ready")
	})
	t.Run("http without insecure", func(t *testing.T) {
		m.mu.Lock()
		before := m.hits
		m.mu.Unlock()
		plain := "http://" + strings.TrimPrefix(m.srv.URL, "https://")
		code, out := runToExit(t, append(magicEnv(e), "NATS_MAGIC_URL="+plain, "NATS_MAGIC_SERVER="+seed))
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "NATS_MAGIC_INSECURE")
		m.mu.Lock()
		require.Equal(t, before, m.hits, "nothing was sent")
		m.mu.Unlock()
	})
	t.Run("foreign submit_url", func(t *testing.T) {
		thief := newMagicServer(t, pub, "{}")
		m.mu.Lock()
		m.submit = thief.srv.URL + "/submit"
		m.mu.Unlock()
		defer func() { m.mu.Lock(); m.submit = ""; m.mu.Unlock() }()
		code, out := runToExit(t, append(magicEnv(e), trust, "NATS_MAGIC_URL="+m.srv.URL, "NATS_MAGIC_SERVER="+seed))
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "submit_url")
		thief.mu.Lock()
		require.Zero(t, thief.hits, "the signed nonce went nowhere")
		thief.mu.Unlock()
	})
}

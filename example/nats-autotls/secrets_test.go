//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
)

// lockedBuffer collects the binary's log; safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runBinaryLogged runs the binary in-process with its log written to w
// and returns once it is ready; it is stopped by the test's cleanup.
func runBinaryLogged(t *testing.T, w io.Writer, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *node, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, w, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("nats-autotls did not stop within 30s")
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("nats-autotls exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("nats-autotls not ready within 60s")
	}
}

// The binary with a DNS hook that prints its credential on every run (as
// set -x or curl -v do) and fails its clean-up: the token is in no log
// line (debug level), no status body and no stored file, the failure is
// logged with its step, exit status and the command to rerun, and the
// ACME account key is only in the account's file.
func TestBinarySecretsNeverLeak(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	t.Setenv(hookURLEnv, dnsControl(t, ca, "example.test.").URL)
	dir := t.TempDir()
	cleaned := filepath.Join(dir, "cleaned")
	hook := filepath.Join(dir, "dns-hook")
	script := fmt.Sprintf(`#!/bin/sh
echo "curl -H 'Authorization: Bearer %[1]s'"
echo "+ DNS_TOKEN=%[1]s" >&2
if [ "$1" = cleanup ]; then echo x >> %[2]q; exit 7; fi
exec %[3]q -test.run='^TestHelperDNSHook$' -- "$@"
`, secretMarker, cleaned, os.Args[0])
	require.NoError(t, os.WriteFile(hook, []byte(script), 0o755))
	storage := filepath.Join(dir, "storage")
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	apex := fmt.Sprintf("secrets-%d.example.test", time.Now().UnixNano())
	logs := &lockedBuffer{}
	runBinaryLogged(t, logs, "-D", "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-autotls_storage", storage,
		"-autotls_names", apex+",*."+apex, "-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos",
		"-autotls_acme_roots", writeDirectoryRoots(t, ca), "-autotls_dns_hook", hook,
		"-autotls_dns_resolvers", ca.DNS.Addr(), "-autotls_status", statusAddr)

	// The clean-ups ran (and failed) and their warnings are written.
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(logs.String(), "exit status 7") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the clean-up runs after the order, in the background
	}
	out := logs.String()
	require.Contains(t, out, "exit status 7", "the failed clean-up is logged")
	require.Contains(t, out, "by hand", "with where to see the hook's output")

	resp, err := http.Get("http://" + statusAddr + "/status")
	require.NoError(t, err)
	status, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)

	places := map[string]string{"log": out, "status": string(status)}
	var accountKey string
	require.NoError(t, filepath.WalkDir(storage, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a lock released while the walk ran
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Name() == "account.json" {
			var rec struct{ Key string }
			require.NoError(t, json.Unmarshal(b, &rec), path)
			block, _ := pem.Decode([]byte(rec.Key))
			require.NotNil(t, block, "account key in %s", path)
			// Past the fixed PKCS #8 header: the private scalar itself.
			accountKey = base64.StdEncoding.EncodeToString(block.Bytes)[48:88]
			return nil
		}
		places[path] = string(b)
		return nil
	}))
	require.NotEmpty(t, accountKey, "the account is stored")
	for where, text := range places {
		require.NotContains(t, text, secretMarker, "DNS token in %s", where)
		require.NotContains(t, text, accountKey, "account key in %s", where)
	}
}

// A password in -autotls_kv_url stays out of the log lines about the
// bucket's connection, as the README promises for URL passwords.
func TestBinaryKVURLPasswordRedacted(t *testing.T) {
	const password = "KV-PASSWORD-MARKER"
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := dead.Addr().String()
	require.NoError(t, dead.Close()) // nothing listens there: the bucket is down
	dir := t.TempDir()
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-D", "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
			"-autotls_storage", filepath.Join(dir, "storage"), "-autotls_kv_url", "nats://bob:" + password + "@" + addr}, logs, nil)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "storage unreachable at start") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("nats-autotls did not stop within 30s")
	}
	out := logs.String()
	require.Contains(t, out, "storage unreachable at start")
	require.Contains(t, out, "nats://bob:xxxxx@"+addr, "the URL is logged, redacted")
	require.NotContains(t, out, password)

	err = run(context.Background(), []string{"-t", "-c", writeConf(t, "port: 4333\n"), "-autotls_kv_url", "nats://bob:" + password + "@[::1"}, logs, nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), password)
}

package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
)

// hookURLEnv tells TestHelperDNSHook, run as the operator's DNS hook, where
// the test's DNS control endpoint is.
const hookURLEnv = "AUTOTLS_TEST_DNS_HOOK_URL"

// TestHelperDNSHook is the DNS hook program of TestDNSHookWildcard: the
// test binary re-run by a shell wrapper as "HOOK present|cleanup FQDN
// VALUE". It posts the request to the test's control endpoint, which edits
// the harness's DNS zone as a DNS provider's API would.
func TestHelperDNSHook(t *testing.T) {
	endpoint := os.Getenv(hookURLEnv)
	if endpoint == "" {
		t.Skip("only run as the DNS hook of TestDNSHookWildcard")
	}
	args := flag.Args()
	require.Len(t, args, 3, "usage: HOOK present|cleanup FQDN VALUE")
	resp, err := http.PostForm(endpoint, url.Values{"action": {args[0]}, "fqdn": {args[1]}, "value": {args[2]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

// dnsControl is the DNS API the hook talks to: it edits zone through the
// harness's libdns provider.
func dnsControl(t *testing.T, ca *acmetest.CA, zone string) *httptest.Server {
	p := ca.DNS.Provider()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := []libdns.Record{libdns.TXT{Name: libdns.RelativeName(r.FormValue("fqdn"), zone), Text: r.FormValue("value")}}
		var err error
		switch r.FormValue("action") {
		case "present":
			_, err = p.AppendRecords(r.Context(), zone, rec)
		case "cleanup":
			_, err = p.DeleteRecords(r.Context(), zone, rec)
		default:
			err = fmt.Errorf("unknown action %q", r.FormValue("action"))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dns-01 through an operator's hook program: a name and its wildcard (two
// values at one _acme-challenge name at once), then nothing left behind.
func TestDNSHookWildcard(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	t.Setenv(hookURLEnv, dnsControl(t, ca, "example.test.").URL)
	hook := filepath.Join(t.TempDir(), "dns-hook")
	script := fmt.Sprintf("#!/bin/sh\nexec %q -test.run='^TestHelperDNSHook$' -- \"$@\"\n", os.Args[0])
	require.NoError(t, os.WriteFile(hook, []byte(script), 0o755))
	roots := writeDirectoryRoots(t, ca)

	apex := fmt.Sprintf("hook-%d.example.test", time.Now().UnixNano())
	port := freePort(t)
	startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_storage", t.TempDir(),
		"-autotls_names", apex+",*."+apex, "-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos",
		"-autotls_acme_roots", roots, "-autotls_dns_hook", hook, "-autotls_dns_resolvers", ca.DNS.Addr())

	for _, serverName := range []string{apex, "leaf1." + apex} {
		nc, err := nats.Connect(fmt.Sprintf("tls://127.0.0.1:%d", port),
			nats.Secure(&tls.Config{RootCAs: ca.Roots(t), ServerName: serverName}), nats.Timeout(10*time.Second))
		require.NoError(t, err, serverName)
		require.NoError(t, nc.Flush())
		nc.Close()
	}
	for name := range ca.DNS.AllTXT() {
		require.False(t, strings.HasSuffix(strings.TrimSuffix(name, "."), apex), "challenge record %s left behind", name)
	}
}

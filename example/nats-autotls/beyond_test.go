package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
)

// The binary prints the dns-persist-01 records with
// -autotls_persist_records; once the operator has published them, a node
// with acme.dns_persist and no DNS provider at all obtains a name and its
// wildcard, and the DNS server sees no write.
func TestBinaryDNSPersist01(t *testing.T) {
	e := newACMEEnv(t)
	name, port, storage := confName("persist"), freePort(t), t.TempDir()
	common := []string{"-autotls_acme", e.ca.DirectoryURL, "-autotls_agree_tos", "-autotls_acme_roots", e.rootsPEM,
		"-autotls_names", name + ",*." + name, "-autotls_storage", storage,
		"-autotls_dns_persist", "-autotls_dns_resolvers", e.ca.DNS.Addr()}

	out, code := runBinary(t, append(common, "-autotls_persist_records")...)
	require.Zero(t, code, out)
	m := regexp.MustCompile(`(?m)^(_validation-persist\.\S+) 3600 IN TXT "([^"]+)"$`).FindStringSubmatch(out)
	require.NotNil(t, m, "a zone-file line in:\n%s", out)
	require.Equal(t, "_validation-persist."+name+".", m[1])
	require.Contains(t, m[2], "pebble.letsencrypt.org; accounturi=https://")
	require.Contains(t, m[2], "; policy=wildcard")
	require.Zero(t, e.ca.Orders(), "printing orders nothing")

	rel := strings.TrimSuffix(m[1], ".example.test.")
	_, err := e.ca.DNS.Provider().AppendRecords(context.Background(), "example.test.", []libdns.Record{libdns.TXT{Name: rel, TTL: time.Hour, Text: m[2]}})
	require.NoError(t, err)
	writes, _ := e.ca.DNS.Provider().Calls()

	startConf(t, nil, append(common, "-a", "127.0.0.1", "-p", strconv.Itoa(port))...)
	leaf := served(t, e, port, name)
	require.NoError(t, leaf.VerifyHostname("any."+name))
	after, _ := e.ca.DNS.Provider().Calls()
	require.Equal(t, writes, after, "no DNS write during the order")
}

// acme.tls_alpn from the autotls block: the websocket listener on the
// port the CA validates on answers tls-alpn-01 (no port 80, no DNS).
func TestBinaryTLSALPN01(t *testing.T) {
	e := newACMEEnv(t)
	name, port := confName("alpn"), freePort(t)
	conf := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, `host: 127.0.0.1
port: %d
websocket { host: 127.0.0.1, port: %d }
autotls {
  names: [%q]
  storage: %q
  acme { directory: %q, agree_tos: true, roots: %q, tls_alpn: true }
}
`, port, e.ca.TLSPort, name, t.TempDir(), e.ca.DirectoryURL, e.rootsPEM), 0o600))
	p := startConf(t, nil, "-c", conf)
	p.WaitForAny(t, `certificate installed event=installed roles="[client websocket`)
	leaf := served(t, e, port, name)
	require.Equal(t, []string{name}, leaf.DNSNames)
	require.Equal(t, 1, e.ca.Orders())
}

// acme.fallback: the first CA answers 503 to new orders, so the
// certificate comes from the second.
func TestBinaryIssuerFallback(t *testing.T) {
	first := newACMEEnv(t)
	second := acmetest.New(t, acmetest.Options{})
	first.ca.Inject(acmetest.Fault{Path: acmetest.NewOrderPath, Kind: acmetest.FaultStatus, Status: 503})
	roots := filepath.Join(t.TempDir(), "roots.pem")
	a, err := os.ReadFile(first.rootsPEM)
	require.NoError(t, err)
	b := pemCert(second.DirectoryCert.Raw)
	require.NoError(t, os.WriteFile(roots, append(a, b...), 0o600))
	name, port := confName("fallback"), freePort(t)
	startConf(t, nil, "-a", "127.0.0.1", "-p", strconv.Itoa(port),
		"-autotls_acme", first.ca.DirectoryURL, "-autotls_acme_fallback", second.DirectoryURL,
		"-autotls_agree_tos", "-autotls_acme_roots", roots, "-autotls_names", name,
		"-autotls_storage", t.TempDir(), "-autotls_http01", "127.0.0.1:"+strconv.Itoa(second.HTTPPort))
	served(t, &acmeEnv{ca: second}, port, name)
	require.Equal(t, 1, second.Orders())
	require.NotEmpty(t, first.ca.Requests(acmetest.NewOrderPath), "the first CA was asked first")
}

// pemCert encodes a DER certificate as PEM.
func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

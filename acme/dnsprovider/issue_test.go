package dnsprovider_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/acme/dnsprovider"
	"github.com/nats-autotls/autotls/internal/acmetest"
)

var labels atomic.Int64

// uniqueName returns a fresh name under example.test: the DNS server is
// shared by the whole test binary.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d.example.test", prefix, labels.Add(1))
}

// issueWildcard obtains name and *.name through the lego provider p and
// checks that the certificate covers both.
func issueWildcard(t *testing.T, ca *acmetest.CA, p acme.LegoProvider, name string) {
	t.Helper()
	cfg := ca.AcmeConfig(t, acme.DirStorage(t.TempDir()))
	cfg.DNS01.Provider = nil
	cfg.DNS01.Lego = p
	iss, err := acme.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cert, err := iss.Obtain(ctx, []string{name, "*." + name})
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(cert.Chain[0])
	require.NoError(t, err)
	require.NoError(t, leaf.VerifyHostname("x."+name), "the wildcard is served")
	require.NoError(t, leaf.VerifyHostname(name))
	require.Empty(t, ca.DNS.TXT("_acme-challenge."+name), "the records are cleaned up")
}

func TestRFC2136IssuesWildcard(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	const key, secret = "autotls-test.", "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVz"
	ca.DNS.SetTSIGKey(key, secret)
	t.Cleanup(func() { ca.DNS.SetTSIGKey("", "") })
	before := ca.DNS.Updates()

	p, err := dnsprovider.New().Open("rfc2136", dnsprovider.Settings{
		"nameserver": ca.DNS.Addr(), "tsig_key": key, "tsig_secret": secret, "tsig_algorithm": "hmac-sha256.",
		"sequence_interval": "1ms",
	})
	require.NoError(t, err)
	issueWildcard(t, ca, p, uniqueName("rfc2136"))
	require.GreaterOrEqual(t, ca.DNS.Updates()-before, 4, "two inserts and two removals, signed")
}

// httpreqEndpoint is lego's httpreq API in front of a libdns provider:
// POST /present and /cleanup with {"fqdn","value"}, basic auth.
type httpreqEndpoint struct {
	p        acme.LibDNSProvider
	zone     string
	requests atomic.Int32
}

func (h *httpreqEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	if u, p, ok := r.BasicAuth(); !ok || u != "acme" || p != "pw" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var msg struct{ FQDN, Value string }
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := []libdns.Record{libdns.TXT{Name: libdns.RelativeName(msg.FQDN, h.zone), TTL: time.Minute, Text: msg.Value}}
	var err error
	switch strings.TrimPrefix(r.URL.Path, "/dns") {
	case "/present":
		_, err = h.p.AppendRecords(r.Context(), h.zone, rec)
	case "/cleanup":
		_, err = h.p.DeleteRecords(r.Context(), h.zone, rec)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func TestHTTPReqIssuesWildcard(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	ep := &httpreqEndpoint{p: ca.DNS.Provider(), zone: "example.test."}
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)

	p, err := dnsprovider.New().Open("httpreq", dnsprovider.Settings{
		"endpoint": srv.URL + "/dns", "username": "acme", "password": "pw",
	})
	require.NoError(t, err)
	issueWildcard(t, ca, p, uniqueName("httpreq"))
	require.EqualValues(t, 4, ep.requests.Load(), "two presents and two cleanups")
}

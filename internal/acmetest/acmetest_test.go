package acmetest_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/http01"
	"github.com/go-acme/lego/v4/registration"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
)

func TestDirectory(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	require.True(t, strings.HasPrefix(c.DirectoryURL, "https://127.0.0.1:"), c.DirectoryURL)

	resp, err := c.HTTPClient.Get(c.DirectoryURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var dir struct {
		NewOrder   string `json:"newOrder"`
		NewAccount string `json:"newAccount"`
		Meta       struct {
			Profiles map[string]string `json:"profiles"`
		} `json:"meta"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&dir))
	require.NotEmpty(t, dir.NewOrder)
	require.NotEmpty(t, dir.NewAccount)
	require.ElementsMatch(t, []string{"default", "shortlived", "tlsserver"}, keys(dir.Meta.Profiles))
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRateLimitKnob(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	c.RateLimitNextOrders(1, 1500*time.Millisecond)
	newOrder := c.DirectoryURL[:strings.LastIndex(c.DirectoryURL, "/")] + "/order-plz"

	resp := post(t, c, newOrder)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "2", resp.Header.Get("Retry-After"), "rounded up to whole seconds")
	require.NotEmpty(t, resp.Header.Get("Replay-Nonce"), "a fresh nonce, as Let's Encrypt sends")
	var prob struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&prob))
	require.Equal(t, "urn:ietf:params:acme:error:rateLimited", prob.Type)
	require.Equal(t, http.StatusTooManyRequests, prob.Status)
	require.Zero(t, c.Orders(), "a rate-limited order does not reach Pebble")

	resp = post(t, c, newOrder)
	require.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode, "only the next n orders are limited")
	require.Equal(t, 1, c.Orders())
}

func TestRateLimitSeenByLego(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	client, _ := dnsClient(t, c)
	name := uniqueLabel(t) + ".example.test"
	c.RateLimitNextOrders(1, 3*time.Second)

	_, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: []string{name}})
	var limited *acme.RateLimitedError
	require.ErrorAs(t, err, &limited)
	require.Equal(t, "3", limited.RetryAfter)
	require.Zero(t, c.Orders())

	obtain(t, client, certificate.ObtainRequest{Domains: []string{name}})
	require.Equal(t, 1, c.Orders())
}

// post sends a (malformed) ACME POST to url.
func post(t *testing.T, c *acmetest.CA, url string) *http.Response {
	t.Helper()
	resp, err := c.HTTPClient.Post(url, "application/jose+json", strings.NewReader("{}"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestDownKnob(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	c.SetDown(true)
	_, err := c.HTTPClient.Get(c.DirectoryURL)
	require.Error(t, err, "a down CA does not answer")

	c.SetDown(false)
	resp, err := c.HTTPClient.Get(c.DirectoryURL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestOptionsRejected(t *testing.T) {
	tests := []struct {
		name string
		opts acmetest.Options
		want string
	}{
		{name: "nonce percent", opts: acmetest.Options{NonceRejectPercent: 101}, want: "Options.NonceRejectPercent 101"},
		{name: "key algorithm", opts: acmetest.Options{KeyAlgorithm: "dsa"}, want: `Options.KeyAlgorithm "dsa"`},
		{name: "empty profiles", opts: acmetest.Options{Profiles: map[string]acmetest.Profile{}}, want: "Options.Profiles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fatalRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				acmetest.New(ft, tc.opts)
			}()
			<-done
			require.Contains(t, ft.msg, tc.want)
		})
	}
}

// fatalRecorder records a Fatalf instead of failing the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestObtainDNS01(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	client, p := dnsClient(t, c)
	base := uniqueLabel(t) + ".example.test"

	start := time.Now()
	chain := obtain(t, client, certificate.ObtainRequest{Domains: []string{base, "*." + base}})
	elapsed := time.Since(start)
	t.Logf("one order, two DNS-01 authorizations sharing one TXT name: %v", elapsed)
	require.Less(t, elapsed, 4*time.Second, "lego's 5-second authorization wait must not happen")

	leaf := chain[0]
	require.ElementsMatch(t, []string{base, "*." + base}, leaf.DNSNames)
	verify(t, c, chain, "nats."+base)
	require.Equal(t, 90*24*time.Hour, leaf.NotAfter.Sub(leaf.NotBefore).Round(time.Hour), "an order without profile gets default")
	require.Empty(t, c.DNS.TXT("_acme-challenge."+base), "challenge records are cleaned up")
	appends, deletes := p.Calls()
	require.Equal(t, 2, appends, "apex and wildcard each append their value")
	require.Equal(t, 2, deletes)
	require.Equal(t, 1, c.Orders())
	require.Equal(t, 1, c.NewAccounts())
}

func TestObtainProfile(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	client, _ := dnsClient(t, c)
	name := uniqueLabel(t) + ".example.test"
	leaf := obtain(t, client, certificate.ObtainRequest{Domains: []string{name}, Profile: "shortlived"})[0]
	require.Equal(t, 160*time.Hour, leaf.NotAfter.Sub(leaf.NotBefore).Round(time.Minute))
}

func TestObtainDNS01ThroughCNAME(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	client, _ := dnsClient(t, c)
	label := uniqueLabel(t)
	name := label + ".example.test"
	target := label + ".delegated.test."
	c.DNS.SetCNAME("_acme-challenge."+name, target)
	t.Cleanup(func() { c.DNS.SetCNAME("_acme-challenge."+name, "") })

	chain := obtain(t, client, certificate.ObtainRequest{Domains: []string{name}})
	verify(t, c, chain, name)
	require.Empty(t, c.DNS.TXT(target), "the delegated record is cleaned up")
}

func TestObtainHTTP01WithIP(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	client := registeredClient(t, c)
	require.NoError(t, client.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", strconv.Itoa(c.HTTPPort))))
	name := uniqueLabel(t) + ".example.test"

	chain := obtain(t, client, certificate.ObtainRequest{Domains: []string{name, "127.0.0.1"}, Profile: "shortlived"})
	leaf := chain[0]
	require.Equal(t, []string{name}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 1)
	require.Equal(t, "127.0.0.1", leaf.IPAddresses[0].String())
	verify(t, c, chain, "127.0.0.1")
}

func TestRenewNowAndReplaced(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{})
	client, _ := dnsClient(t, c)
	name := uniqueLabel(t) + ".example.test"
	old := obtain(t, client, certificate.ObtainRequest{Domains: []string{name}})[0]

	info, err := client.Certificate.GetRenewalInfo(certificate.RenewalInfoRequest{Cert: old})
	require.NoError(t, err)
	require.True(t, info.SuggestedWindow.Start.After(time.Now()), "a fresh certificate is not due")

	c.RenewNow(t, old)
	info, err = client.Certificate.GetRenewalInfo(certificate.RenewalInfoRequest{Cert: old})
	require.NoError(t, err)
	require.True(t, info.SuggestedWindow.End.Before(time.Now()), "the window lies in the past")
	require.False(t, c.Replaced(old))

	certID, err := certificate.MakeARICertID(old)
	require.NoError(t, err)
	renewed := obtain(t, client, certificate.ObtainRequest{Domains: []string{name}, ReplacesCertID: certID})[0]
	require.True(t, c.Replaced(old), "the ARI replacement is recorded as soon as Obtain returns")
	require.False(t, c.Replaced(renewed))
	require.Equal(t, 2, c.Orders())
}

func TestExternalAccountBinding(t *testing.T) {
	t.Parallel()
	hmac := make([]byte, 32)
	_, err := rand.Read(hmac)
	require.NoError(t, err)
	key := base64.RawURLEncoding.EncodeToString(hmac)
	c := acmetest.New(t, acmetest.Options{EAB: map[string]string{"kid-1": key}})

	client, _ := newClient(t, c)
	_, err = client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true})
	require.ErrorContains(t, err, "externalAccountRequired")

	client, _ = newClient(t, c)
	_, err = client.Registration.RegisterWithExternalAccountBinding(registration.RegisterEABOptions{
		TermsOfServiceAgreed: true, Kid: "kid-1", HmacEncoded: key,
	})
	require.NoError(t, err)
	require.Equal(t, 2, c.NewAccounts())
}

func TestNonceRejection(t *testing.T) {
	t.Parallel()
	c := acmetest.New(t, acmetest.Options{NonceRejectPercent: 50})
	// Each registration sends at least one POST; with half the nonces
	// rejected, 20 registrations all escaping rejection has odds of 1e-6.
	// lego retries a badNonce after 200 ms, so stop at the first.
	for i := 0; i < 20 && c.BadNonces() == 0; i++ {
		registeredClient(t, c)
	}
	require.Positive(t, c.BadNonces(), "Pebble rejects nonces and lego retries")

	quiet := acmetest.New(t, acmetest.Options{})
	registeredClient(t, quiet)
	require.Zero(t, quiet.BadNonces(), "zero means no rejected nonce")
}

func BenchmarkObtainDNS01(b *testing.B) {
	c := acmetest.New(b, acmetest.Options{})
	client, _ := dnsClient(b, c)
	base := "bench.example.test"
	req := certificate.ObtainRequest{Domains: []string{base, "nats." + base}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := client.Certificate.Obtain(req); err != nil {
			b.Fatal(err)
		}
	}
}

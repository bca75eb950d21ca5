package acme_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/internal/dnstest"
	"github.com/nats-autotls/autotls/internal/fakeclock"
)

// The fault suite: Pebble behind the acmetest front handler, which injects
// 429/503 answers with Retry-After, dropped connections, hung requests,
// bad nonces and polling hints. Each test asserts what a caller (tlsmgr,
// an operator) sees: the typed error and its retry time on the injected
// clock, the requests the CA received, the time an order takes.

// t0 is the injected clock's time in these tests.
var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// retryAter is how tlsmgr reads the CA's Retry-After from any error.
type retryAter interface{ RetryAt() time.Time }

// A 429 or 503 answer, at the directory or at newOrder, ends the order at
// once with a typed error whose RetryAt is the CA's Retry-After read on
// the injected clock, clamped, never overflowed.
func TestFaultRetryAfter(t *testing.T) {
	t.Parallel()
	httpDate := t0.Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		path       string
		status     int
		retryAfter string
		want       time.Time
	}{
		{"429 at newOrder", acmetest.NewOrderPath, 429, "3600", t0.Add(time.Hour)},
		{"429 overflowing to 2033 before", acmetest.NewOrderPath, 429, "99999999999999", t0.Add(acme.MaxRetryAfter)},
		{"429 overflowing negative before", acmetest.NewOrderPath, 429, "9300000000", t0.Add(acme.MaxRetryAfter)},
		{"503 at newOrder", acmetest.NewOrderPath, 503, "120", t0.Add(2 * time.Minute)},
		{"503 as an HTTP-date", acmetest.NewOrderPath, 503, httpDate, t0.Add(90 * time.Second)},
		{"503 at the directory", acmetest.DirectoryPath, 503, "600", t0.Add(10 * time.Minute)},
		{"503 overflowing", acmetest.DirectoryPath, 503, "9300000000", t0.Add(acme.MaxRetryAfter)},
		{"503 without Retry-After", acmetest.NewOrderPath, 503, "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ca := acmetest.New(t, acmetest.Options{})
			cfg := baseConfig(t, ca)
			cfg.Clock = fakeclock.New(t0)
			iss := newIssuer(t, cfg)
			ca.Inject(acmetest.Fault{Path: tt.path, Times: 1, Kind: acmetest.FaultStatus, Status: tt.status, RetryAfter: tt.retryAfter})

			_, err := obtain(t, iss, uniqueName(t))
			require.Error(t, err)
			var ra retryAter
			require.ErrorAs(t, err, &ra, "tlsmgr finds the retry time: %v", err)
			require.Equal(t, tt.want, ra.RetryAt(), "%v", err)
			if tt.status == http.StatusTooManyRequests {
				var rl *acme.RateLimitError
				require.ErrorAs(t, err, &rl)
			} else {
				var ue *acme.UnreachableError
				require.ErrorAs(t, err, &ue)
				require.Equal(t, http.StatusServiceUnavailable, ue.Status)
				require.Contains(t, err.Error(), "HTTP 503")
			}
			require.Zero(t, ca.Orders(), "no order reached Pebble")

			// The next attempt (the fault was used up) succeeds.
			mustObtain(t, iss, uniqueName(t))
		})
	}
}

// ARI behind a 503: the typed error carries the Retry-After.
func TestFaultRenewalInfo503(t *testing.T) {
	t.Parallel()
	ca := acmetest.New(t, acmetest.Options{})
	cfg := baseConfig(t, ca)
	cfg.Clock = fakeclock.New(t0)
	iss := newIssuer(t, cfg)
	cert := mustObtain(t, iss, uniqueName(t))
	ca.Inject(acmetest.Fault{Path: "/draft-ietf-acme-ari", Times: 1, Kind: acmetest.FaultStatus, Status: 503, RetryAfter: "99999999999999"})
	_, _, _, err := iss.RenewalWindow(context.Background(), cert.Leaf)
	var ue *acme.UnreachableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, t0.Add(acme.MaxRetryAfter), ue.RetryAt())
}

// A challenge answered with Retry-After: 3600 (the challenge still
// processing) does not keep the order waiting an hour: the polling hint is
// cut to the budget's poll interval and the certificate arrives.
func TestFaultChallengeRetryAfterHour(t *testing.T) {
	t.Parallel()
	ca := acmetest.New(t, acmetest.Options{})
	cfg := baseConfig(t, ca)
	cfg.OrderTimeout = time.Minute // polls at least every T/60 = 1 s
	iss := newIssuer(t, cfg)
	ca.Inject(acmetest.Fault{Path: acmetest.ChallengePath, Kind: acmetest.FaultPoll, RetryAfter: "3600"})

	start := time.Now()
	mustObtain(t, iss, uniqueName(t)) // within testTimeout (30 s), not 3600 s
	t.Logf("order with a 3600 s polling hint took %s", time.Since(start))
	require.NotEmpty(t, ca.Requests(acmetest.ChallengePath))
}

// hangingProvider is a libdns provider whose appends never return, even
// when their context ends, until release is closed.
type hangingProvider struct {
	acme.LibDNSProvider
	entered chan struct{}
	release chan struct{}
}

func newHangingProvider(t *testing.T, p acme.LibDNSProvider) *hangingProvider {
	h := &hangingProvider{LibDNSProvider: p, entered: make(chan struct{}, 16), release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) })
	return h
}

func (h *hangingProvider) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	h.entered <- struct{}{}
	<-h.release
	return nil, errors.New("released")
}

// hangingLego is a lego provider whose Present never returns until
// release is closed.
type hangingLego struct{ release chan struct{} }

func (h hangingLego) Present(string, string, string) error { <-h.release; return nil }
func (h hangingLego) CleanUp(string, string, string) error { return nil }

// A DNS provider call that never returns (and ignores its context) ends
// the order with an error naming the step, after the provider's share of
// Config.OrderTimeout; the CA never sees the challenge answered.
func TestFaultProviderNeverReturns(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"libdns", "lego"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ca := acmetest.New(t, acmetest.Options{})
			cfg := baseConfig(t, ca)
			cfg.OrderTimeout = 20 * time.Second // provider share 5 s, request share 2 s: margin for a loaded machine
			if kind == "libdns" {
				cfg.DNS01.Provider = newHangingProvider(t, ca.DNS.Provider())
			} else {
				release := make(chan struct{})
				t.Cleanup(func() { close(release) })
				cfg.DNS01.Provider, cfg.DNS01.Lego = nil, hangingLego{release}
			}
			iss := newIssuer(t, cfg)
			name := uniqueName(t)
			_, err := obtain(t, iss, name)
			require.Error(t, err)
			require.Contains(t, err.Error(), "dns-01 present "+name)
			require.Contains(t, err.Error(), "did not return within 5s")
			require.Empty(t, ca.Requests(acmetest.ChallengePath), "no challenge was answered")
		})
	}
}

// A CA that hangs a request: the request ends at its share of the order
// timeout, and the error names it.
func TestFaultHungRequest(t *testing.T) {
	t.Parallel()
	ca := acmetest.New(t, acmetest.Options{})
	cfg := baseConfig(t, ca)
	cfg.OrderTimeout = 20 * time.Second // request share: 2 s
	iss := newIssuer(t, cfg)
	mustObtain(t, iss, uniqueName(t)) // account registered
	remove := ca.Inject(acmetest.Fault{Path: acmetest.FinalizePath, Kind: acmetest.FaultHang})
	_, err := obtain(t, iss, uniqueName(t))
	require.Error(t, err)
	require.Contains(t, err.Error(), acmetest.FinalizePath)
	require.Contains(t, err.Error(), "no answer within 2s")
	remove()
	mustObtain(t, iss, uniqueName(t))
}

// Bad nonces and a dropped connection: lego retries the bad nonces; a
// dropped newOrder is an *UnreachableError without status, and the next
// order succeeds.
func TestFaultBadNonceAndDrop(t *testing.T) {
	t.Parallel()
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, baseConfig(t, ca))
	ca.Inject(acmetest.Fault{Method: http.MethodPost, Times: 3, Kind: acmetest.FaultBadNonce})
	mustObtain(t, iss, uniqueName(t))

	ca.Inject(acmetest.Fault{Path: acmetest.NewOrderPath, Times: 1, Kind: acmetest.FaultDrop})
	_, err := obtain(t, iss, uniqueName(t))
	var ue *acme.UnreachableError
	require.ErrorAs(t, err, &ue)
	require.Zero(t, ue.Status)
	require.True(t, ue.RetryAt().IsZero())
	mustObtain(t, iss, uniqueName(t))
}

// Two Issuers with different resolvers in one process never wait for each
// other: while the first is stuck in its DNS provider, the second obtains
// a certificate. (Before, lego's process-wide resolver list was held for
// the whole of every order, and changing it waited for them all.)
func TestFaultIssuersIndependent(t *testing.T) {
	t.Parallel()
	caA := acmetest.New(t, acmetest.Options{})
	cfgA := baseConfig(t, caA)
	stuck := newHangingProvider(t, caA.DNS.Provider())
	cfgA.DNS01.Provider = stuck
	issA := newIssuer(t, cfgA)

	dnsB, err := dnstest.Start("example.test.")
	require.NoError(t, err)
	t.Cleanup(func() { _ = dnsB.Close() })
	caB := acmetest.New(t, acmetest.Options{DNS: dnsB})
	cfgB := baseConfig(t, caB)
	require.NotEqual(t, cfgA.DNS01.Resolvers, cfgB.DNS01.Resolvers)

	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	errA := obtainAsync(ctxA, issA, uniqueName(t))
	waitFor(t, stuck.entered, "the first Issuer never reached its provider")

	issB := newIssuer(t, cfgB) // a second Issuer, other resolvers, built while A is stuck
	cert := mustObtain(t, issB, uniqueName(t))
	verifyChain(t, caB, cert, cert.Leaf.DNSNames[0])
	select {
	case err := <-errA:
		t.Fatalf("the first order ended early: %v", err)
	default:
	}
	cancelA()
	require.ErrorIs(t, <-errA, context.Canceled)
}

// An order that runs past Config.OrderTimeout fails with a *TimeoutError
// naming its step, even if each step keeps within its own share.
func TestFaultOrderTimeout(t *testing.T) {
	t.Parallel()
	ca := acmetest.New(t, acmetest.Options{})
	cfg := baseConfig(t, ca)
	cfg.OrderTimeout = 8 * time.Second       // request share 800 ms
	cfg.DNS01.PropagationTimeout = time.Hour // cut to the budget's share, 4 s
	cfg.DNS01.Provider = neverVisible{ca.DNS.Provider()}
	iss := newIssuer(t, cfg)
	_, err := obtain(t, iss, uniqueName(t))
	require.Error(t, err)
	var te *acme.TimeoutError
	if errors.As(err, &te) {
		require.Contains(t, te.Step, "propagation")
	} else {
		require.Contains(t, err.Error(), "propagation")
	}
	require.Empty(t, ca.Requests(acmetest.ChallengePath))
}

// neverVisible accepts appends without writing: the record never
// propagates.
type neverVisible struct{ acme.LibDNSProvider }

func (neverVisible) AppendRecords(_ context.Context, _ string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, nil
}

func (neverVisible) DeleteRecords(_ context.Context, _ string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, nil
}

// An ARI request the CA never answers ends at the request share of
// Config.OrderTimeout, whatever the caller's context.
func TestFaultRenewalInfoHangs(t *testing.T) {
	t.Parallel()
	ca := acmetest.New(t, acmetest.Options{})
	cfg := baseConfig(t, ca)
	cfg.OrderTimeout = 20 * time.Second // request share: 2 s
	iss := newIssuer(t, cfg)
	cert := mustObtain(t, iss, uniqueName(t))
	ca.Inject(acmetest.Fault{Path: "/draft-ietf-acme-ari", Kind: acmetest.FaultHang})
	errc := make(chan error, 1)
	go func() {
		_, _, _, err := iss.RenewalWindow(context.Background(), cert.Leaf)
		errc <- err
	}()
	select {
	case err := <-errc:
		var ue *acme.UnreachableError
		require.ErrorAs(t, err, &ue)
	case <-time.After(testTimeout):
		t.Fatal("RenewalWindow still waiting for a CA that never answers")
	}
}

package acme_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/internal/certutil"
)

func TestObtainDNS01ApexAndWildcard(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	p := ca.DNS.Provider()
	cfg := baseConfig(t, ca)
	cfg.DNS01 = ca.DNS01(p)
	iss := newIssuer(t, cfg)

	cert := mustObtain(t, iss, "nats.example.test", "*.example.test")

	require.ElementsMatch(t, []string{"nats.example.test", "*.example.test"}, cert.Leaf.DNSNames)
	require.Empty(t, cert.Leaf.IPAddresses)
	verifyChain(t, ca, cert, "nats.example.test")
	verifyChain(t, ca, cert, "other.example.test")
	require.True(t, certutil.KeyMatches(cert.Key, cert.Leaf.PublicKey))
	require.Empty(t, challengeTXT(ca), "no challenge record is left")
	appends, deletes := p.Calls()
	require.Equal(t, 2, appends, "one TXT value appended per authorization")
	require.Equal(t, 2, deletes)

	keyPEM, err := cert.KeyPEM()
	require.NoError(t, err)
	key, err := certutil.DecodeKey(keyPEM)
	require.NoError(t, err)
	require.True(t, certutil.KeyMatches(key, cert.Leaf.PublicKey))
	chain, err := certutil.DecodeChain(cert.CertPEM())
	require.NoError(t, err)
	require.Equal(t, cert.Chain, chain)
}

func TestAccountReusedFromStorage(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	dir := t.TempDir()
	cfg := baseConfig(t, ca)
	cfg.Storage = acme.DirStorage(dir)
	cfg.Email = "ops@example.test"

	first := newIssuer(t, cfg)
	mustObtain(t, first, uniqueName(t))
	require.Equal(t, 1, ca.NewAccounts())
	require.NotEmpty(t, first.AccountURL())

	path := filepath.Join(dir, "acme", first.IssuerKey(), "ops@example.test", "account.json")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the account key is private")
	di, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	second := newIssuer(t, cfg)
	mustObtain(t, second, uniqueName(t))
	require.Equal(t, first.AccountURL(), second.AccountURL())
	require.Equal(t, 1, ca.NewAccounts(), "the stored account is reused without a new registration")
}

func TestRenewalWithReplacesAndARI(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, baseConfig(t, ca))
	name := uniqueName(t)
	old := mustObtain(t, iss, name)

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	start, end, _, err := iss.RenewalWindow(ctx, old.Leaf)
	require.NoError(t, err)
	require.False(t, start.IsZero())
	require.True(t, end.After(start))
	require.True(t, start.After(old.Leaf.NotBefore) && !end.After(old.Leaf.NotAfter), "window %v-%v within validity", start, end)
	require.True(t, start.After(time.Now()), "a fresh certificate is not due")

	key, err := certutil.GenerateKey(certutil.P256)
	require.NoError(t, err)
	chain, err := iss.Issue(ctx, key, []string{name}, old.Leaf)
	require.NoError(t, err)
	require.True(t, ca.Replaced(old.Leaf), "the order said it replaces the old certificate")
	renewed, err := certutil.ParseChain(chain)
	require.NoError(t, err)
	require.True(t, certutil.KeyMatches(key, renewed[0].PublicKey))

	ca.RenewNow(t, renewed[0])
	start, _, _, err = iss.RenewalWindow(ctx, renewed[0])
	require.NoError(t, err)
	require.True(t, start.Before(time.Now()), "after RenewNow the window has started")
}

func TestExternalAccountBinding(t *testing.T) {
	hmac := make([]byte, 32)
	_, err := rand.Read(hmac)
	require.NoError(t, err)
	hmacKey := base64.RawURLEncoding.EncodeToString(hmac)
	ca := acmetest.New(t, acmetest.Options{EAB: map[string]string{"kid-1": hmacKey}})

	plain := newIssuer(t, baseConfig(t, ca))
	_, err = obtain(t, plain, uniqueName(t))
	var cerr *acme.ConfigError
	require.ErrorAs(t, err, &cerr)
	require.Equal(t, "EAB", cerr.Field)
	require.ErrorContains(t, err, "requires External Account Binding")

	cfg := baseConfig(t, ca)
	cfg.EAB = &acme.ExternalAccountBinding{KeyID: "kid-1", HMACKey: hmacKey}
	cert := mustObtain(t, newIssuer(t, cfg), uniqueName(t))
	verifyChain(t, ca, cert, cert.Leaf.DNSNames[0])
	require.Equal(t, 1, ca.NewAccounts())
}

func TestProfile(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})

	cfg := baseConfig(t, ca)
	cfg.Profile = "shortlived"
	cert := mustObtain(t, newIssuer(t, cfg), uniqueName(t))
	require.InDelta(t, (160 * time.Hour).Seconds(), cert.Leaf.NotAfter.Sub(cert.Leaf.NotBefore).Seconds(), 120)

	orders := ca.Orders()
	cfg = baseConfig(t, ca)
	cfg.Profile = "bogus"
	_, err := obtain(t, newIssuer(t, cfg), uniqueName(t))
	var cerr *acme.ConfigError
	require.ErrorAs(t, err, &cerr)
	require.Equal(t, "Profile", cerr.Field)
	require.Equal(t, "bogus", cerr.Value)
	for _, offered := range []string{"default", "shortlived", "tlsserver"} {
		require.ErrorContains(t, err, offered)
	}
	require.Equal(t, orders, ca.Orders(), "no order is sent for an unknown profile")
}

func TestBadNoncesAreRetried(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{NonceRejectPercent: 30})
	iss := newIssuer(t, baseConfig(t, ca))
	for range 3 {
		cert := mustObtain(t, iss, uniqueName(t))
		verifyChain(t, ca, cert, cert.Leaf.DNSNames[0])
	}
}

func TestRateLimit(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, baseConfig(t, ca))
	ca.RateLimitNextOrders(1, 2*time.Hour)

	_, err := obtain(t, iss, uniqueName(t))
	var rl *acme.RateLimitError
	require.ErrorAs(t, err, &rl)
	require.WithinDuration(t, time.Now().Add(2*time.Hour), rl.RetryAfter, time.Minute)
	var floor interface{ RetryAt() time.Time } // what tlsmgr's backoff looks for
	require.ErrorAs(t, err, &floor)
	require.Equal(t, rl.RetryAfter, floor.RetryAt())

	mustObtain(t, iss, uniqueName(t))
}

func TestDNSProviderFailure(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	p := ca.DNS.Provider()
	p.FailNext(1, errors.New("injected outage"))
	cfg := baseConfig(t, ca)
	cfg.DNS01 = ca.DNS01(p)
	name := uniqueName(t)

	_, err := obtain(t, newIssuer(t, cfg), name)
	require.ErrorContains(t, err, "dns-01 present _acme-challenge."+name+". (zone example.test.)")
	require.ErrorContains(t, err, "injected outage")
	require.Empty(t, challengeTXT(ca))
}

// TestFailedAppendCleansUp: a DNS provider call that wrote the record but
// failed (the response was lost, or the order was cancelled during the
// call) leaves no challenge record behind, although lego never cleans up
// after a failed Present.
func TestFailedAppendCleansUp(t *testing.T) {
	tests := []struct {
		name   string
		cancel bool
	}{
		{name: "response lost"},
		{name: "cancelled during append", cancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := acmetest.New(t, acmetest.Options{})
			p := &lostResponseProvider{LibDNSProvider: ca.DNS.Provider(), block: tt.cancel,
				appended: make(chan struct{}, 1), release: make(chan struct{})}
			cfg := baseConfig(t, ca)
			cfg.DNS01 = ca.DNS01(p)
			iss := newIssuer(t, cfg)
			name := uniqueName(t)

			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			errc := obtainAsync(ctx, iss, name)
			waitFor(t, p.appended, "no challenge record was written")
			require.NotEmpty(t, ca.DNS.TXT("_acme-challenge."+name), "the record exists although the call fails")
			if tt.cancel {
				cancel()
			} else {
				close(p.release)
			}
			select {
			case err := <-errc:
				if tt.cancel {
					require.ErrorIs(t, err, context.Canceled)
				} else {
					require.ErrorIs(t, err, errLost)
				}
			case <-time.After(testTimeout):
				t.Fatal("Obtain did not return")
			}
			// The next order waits for the failed one to finish.
			mustObtain(t, iss, uniqueName(t))
			require.Empty(t, challengeTXT(ca))
		})
	}
}

func TestCancelCleansUp(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	p := &signalingProvider{LibDNSProvider: ca.DNS.Provider(), appended: make(chan struct{}, 1)}
	cfg := baseConfig(t, ca)
	cfg.DNS01 = ca.DNS01(p)
	cfg.DNS01.PollingInterval = 500 * time.Millisecond // lego waits this long before its first check
	iss := newIssuer(t, cfg)
	name := uniqueName(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := obtainAsync(ctx, iss, name)
	waitFor(t, p.appended, "no challenge record was presented")
	require.NotEmpty(t, ca.DNS.TXT("_acme-challenge."+name))
	cancel()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(time.Second):
		t.Fatal("Obtain did not return within 1 s of cancel")
	}
	require.Eventually(t, func() bool { return len(ca.DNS.TXT("_acme-challenge."+name)) == 0 },
		testTimeout, 10*time.Millisecond, "the challenge record is deleted after cancel")

	// The Issuer still works once the abandoned order is over.
	mustObtain(t, iss, uniqueName(t))
}

func TestCNAMEDelegation(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	cfg := baseConfig(t, ca)
	cfg.DNS01.Zone = "example.test" // the delegated record must not land here
	name := uniqueName(t)
	target := "delegated-" + strconv.FormatInt(labels.Add(1), 10) + ".delegated.test."
	ca.DNS.SetCNAME("_acme-challenge."+name+".", target)
	t.Cleanup(func() { ca.DNS.SetCNAME("_acme-challenge."+name+".", "") })
	p := &signalingProvider{LibDNSProvider: ca.DNS.Provider(), appended: make(chan struct{}, 1)}
	cfg.DNS01.Provider = p
	iss := newIssuer(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	type res struct {
		cert *acme.Certificate
		err  error
	}
	done := make(chan res, 1)
	go func() {
		c, err := iss.Obtain(ctx, []string{name})
		done <- res{c, err}
	}()
	select {
	case <-p.appended:
		require.NotEmpty(t, ca.DNS.TXT(target), "the record is written in the delegated zone")
		require.Empty(t, ca.DNS.TXT("_acme-challenge."+name))
	case r := <-done:
		require.NoError(t, r.err)
		t.Fatal("no record was appended")
	}
	r := <-done
	require.NoError(t, r.err)
	verifyChain(t, ca, r.cert, name)
	require.Empty(t, ca.DNS.TXT(target), "the delegated record is cleaned up")
}

func TestHTTP01(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	tests := []struct {
		name    string
		names   []string
		profile string
	}{
		{name: "dns name", names: []string{uniqueName(t)}},
		{name: "IP address", names: []string{"127.0.0.1"}, profile: "shortlived"},
		// Pebble certifies IP addresses under any profile; Let's Encrypt only under "shortlived".
		{name: "IP address without profile", names: []string{"127.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(t, ca)
			cfg.DNS01 = nil
			cfg.HTTP01 = &acme.HTTP01{Addr: "127.0.0.1:" + strconv.Itoa(ca.HTTPPort)}
			cfg.Profile = tc.profile
			cert := mustObtain(t, newIssuer(t, cfg), tc.names...)
			verifyChain(t, ca, cert, tc.names[0])
		})
	}
}

func TestConcurrentOrders(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, baseConfig(t, ca))
	names := []string{uniqueName(t), uniqueName(t), uniqueName(t)}
	errc := make(chan error, len(names))
	for _, n := range names {
		go func() {
			_, err := obtain(t, iss, n, "*."+n)
			errc <- err
		}()
	}
	for range names {
		require.NoError(t, <-errc)
	}
	require.Equal(t, 1, ca.NewAccounts(), "one account for every order")
	require.Equal(t, len(names), ca.Orders())
}

func TestKeyTypes(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	for _, kt := range []acme.KeyType{acme.KeyP384, acme.KeyRSA2048, acme.KeyEd25519} {
		t.Run(string(kt), func(t *testing.T) {
			cfg := baseConfig(t, ca)
			cfg.KeyType = kt
			cert, err := obtain(t, newIssuer(t, cfg), uniqueName(t))
			if err != nil {
				require.Equal(t, acme.KeyEd25519, kt, "only Ed25519 may be refused")
				require.ErrorContains(t, err, "urn:ietf:params:acme:error", "the CA's error is passed through")
				return
			}
			require.True(t, certutil.KeyMatches(cert.Key, cert.Leaf.PublicKey))
		})
	}
}

func TestValidationError(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	cfg := baseConfig(t, ca)
	cfg.DNS01 = nil
	cfg.HTTP01 = &acme.HTTP01{Addr: "127.0.0.1:0"} // not where the CA connects
	name := uniqueName(t)

	_, err := obtain(t, newIssuer(t, cfg), name)
	var verr *acme.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, name, verr.Name)
	require.NotEmpty(t, verr.Detail)
	require.ErrorContains(t, err, "acme: validation of "+name+" failed")
}

func TestUnknownStoredAccountIsReplaced(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	dir := t.TempDir()
	cfg := baseConfig(t, ca)
	cfg.Storage = acme.DirStorage(dir)
	iss := newIssuer(t, cfg)

	// An account the CA has never seen, as after a CA reset.
	key, err := certutil.GenerateKey(certutil.P256)
	require.NoError(t, err)
	keyPEM, err := certutil.EncodeKey(key)
	require.NoError(t, err)
	gone := strings.TrimSuffix(ca.DirectoryURL, "/dir") + "/my-account/deadbeef"
	rec, err := json.Marshal(map[string]string{"uri": gone, "key": string(keyPEM)})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, cfg.Storage.Store(ctx, "acme/"+iss.IssuerKey()+"/default/account.json", rec))

	mustObtain(t, iss, uniqueName(t))
	require.NotEqual(t, gone, iss.AccountURL())
	require.Equal(t, 1, ca.NewAccounts())

	stored, err := cfg.Storage.Load(ctx, "acme/"+iss.IssuerKey()+"/default/account.json")
	require.NoError(t, err)
	require.Contains(t, string(stored), iss.AccountURL(), "the new account is stored")
}

func TestIssuersShareHTTPClient(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	issuers := []*acme.Issuer{newIssuer(t, baseConfig(t, ca)), newIssuer(t, baseConfig(t, ca))}
	errc := make(chan error, len(issuers))
	for _, iss := range issuers {
		go func() {
			_, err := obtain(t, iss, uniqueName(t))
			errc <- err
		}()
	}
	for range issuers {
		require.NoError(t, <-errc)
	}
	require.Equal(t, 2, ca.NewAccounts(), "each Issuer has its own account storage")
}

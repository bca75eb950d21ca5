package acme_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

var (
	_ tlsmgr.Issuer         = (*acme.Issuer)(nil)
	_ tlsmgr.RootsIssuer    = (*acme.Issuer)(nil)
	_ tlsmgr.RenewalAdvisor = (*acme.Issuer)(nil)
	_ acme.Storage          = tlsmgr.Storage(nil)
)

// testTimeout bounds every order of the tests.
const testTimeout = 30 * time.Second

// labels makes DNS labels unique within the test binary: the DNS server is
// shared by every test.
var labels atomic.Int64

// uniqueName returns a fresh name under example.test.
func uniqueName(t testing.TB) string {
	t.Helper()
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(t.Name()))
	if len(base) > 40 {
		base = base[:40]
	}
	return fmt.Sprintf("%s-%d.example.test", strings.Trim(base, "-"), labels.Add(1))
}

// baseConfig returns a DNS-01 configuration for ca with a fresh account
// directory.
func baseConfig(t testing.TB, ca *acmetest.CA) acme.Config {
	t.Helper()
	return ca.AcmeConfig(t, acme.DirStorage(t.TempDir()))
}

// newIssuer builds an Issuer from cfg, failing the test on error.
func newIssuer(t testing.TB, cfg acme.Config) *acme.Issuer {
	t.Helper()
	iss, err := acme.New(cfg)
	require.NoError(t, err)
	return iss
}

// obtain runs Obtain with a bounded context.
func obtain(t testing.TB, iss *acme.Issuer, names ...string) (*acme.Certificate, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return iss.Obtain(ctx, names)
}

// obtainAsync runs Obtain for name in the background and delivers its
// error.
func obtainAsync(ctx context.Context, iss *acme.Issuer, name string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := iss.Obtain(ctx, []string{name})
		errc <- err
	}()
	return errc
}

// waitFor waits for a signal on ch, failing with msg after testTimeout.
func waitFor(t testing.TB, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatal(msg)
	}
}

// mustObtain runs Obtain and fails the test on error.
func mustObtain(t testing.TB, iss *acme.Issuer, names ...string) *acme.Certificate {
	t.Helper()
	cert, err := obtain(t, iss, names...)
	require.NoError(t, err)
	return cert
}

// verifyChain checks that cert chains to the CA's roots for name.
func verifyChain(t testing.TB, ca *acmetest.CA, cert *acme.Certificate, name string) {
	t.Helper()
	inter := x509.NewCertPool()
	for _, der := range cert.Chain[1:] {
		c, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		inter.AddCert(c)
	}
	_, err := cert.Leaf.Verify(x509.VerifyOptions{
		Roots: ca.Roots(t), Intermediates: inter, DNSName: name,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	require.NoError(t, err)
}

// challengeTXT returns the _acme-challenge TXT records left on the server.
func challengeTXT(ca *acmetest.CA) map[string][]string {
	out := map[string][]string{}
	for name, vals := range ca.DNS.AllTXT() {
		if strings.HasPrefix(name, "_acme-challenge.") {
			out[name] = vals
		}
	}
	return out
}

// signalingProvider is a libdns provider that reports every successful
// append on a channel.
type signalingProvider struct {
	acme.LibDNSProvider
	appended chan struct{}
}

func (p *signalingProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.LibDNSProvider.AppendRecords(ctx, zone, recs)
	if err == nil {
		select {
		case p.appended <- struct{}{}:
		default:
		}
	}
	return out, err
}

// lostResponseProvider performs the first append on the underlying
// provider, then reports it on appended and fails it: with errLost
// ("written but the response was lost") once release is closed, or, if
// block is set, with the context's error when it ends.
type lostResponseProvider struct {
	acme.LibDNSProvider
	block    bool
	appended chan struct{}
	release  chan struct{}
	done     atomic.Bool
}

var errLost = errors.New("connection reset after the write")

func (p *lostResponseProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if p.done.Swap(true) {
		return p.LibDNSProvider.AppendRecords(ctx, zone, recs)
	}
	if _, err := p.LibDNSProvider.AppendRecords(ctx, zone, recs); err != nil {
		return nil, err
	}
	p.appended <- struct{}{}
	if !p.block {
		<-p.release
		return nil, errLost
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

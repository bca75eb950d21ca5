package acmetest_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/lego"
	legolog "github.com/go-acme/lego/v4/log"
	"github.com/go-acme/lego/v4/registration"
	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/internal/dnstest"
)

// legoGlobals sets lego's process-wide DNS settings once: they are package
// variables in lego, written without synchronisation, so parallel tests
// must not each write them.
var legoGlobals sync.Once

func configureLego(t testing.TB, dnsAddr string) {
	t.Helper()
	legoGlobals.Do(func() {
		legolog.Logger = log.New(io.Discard, "", 0)
		require.NoError(t, dns01.AddRecursiveNameservers([]string{dnsAddr})(nil))
		require.NoError(t, dns01.AddDNSTimeout(2*time.Second)(nil))
	})
}

// user is a lego account.
type user struct {
	key crypto.PrivateKey
	reg *registration.Resource
}

func (u *user) GetEmail() string                        { return "" }
func (u *user) GetRegistration() *registration.Resource { return u.reg }
func (u *user) GetPrivateKey() crypto.PrivateKey        { return u.key }

// newClient returns a lego client for c with a fresh, unregistered account.
func newClient(t testing.TB, c *acmetest.CA) (*lego.Client, *user) {
	t.Helper()
	configureLego(t, c.DNS.Addr())
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	u := &user{key: key}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = c.DirectoryURL
	cfg.HTTPClient = c.HTTPClient
	cfg.Certificate.KeyType = certcrypto.EC256
	cfg.Certificate.OverallRequestLimit = 1000
	client, err := lego.NewClient(cfg)
	require.NoError(t, err)
	return client, u
}

// registeredClient returns a lego client with a registered account.
func registeredClient(t testing.TB, c *acmetest.CA) *lego.Client {
	t.Helper()
	client, u := newClient(t, c)
	reg, err := client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true})
	require.NoError(t, err)
	u.reg = reg
	return client
}

// dnsClient returns a registered lego client solving DNS-01 through the
// CA's DNS server.
func dnsClient(t testing.TB, c *acmetest.CA) (*lego.Client, *dnstest.Provider) {
	t.Helper()
	client := registeredClient(t, c)
	p := c.DNS.Provider()
	require.NoError(t, client.Challenge.SetDNS01Provider(legoProvider{p},
		dns01.DisableAuthoritativeNssPropagationRequirement()))
	return client, p
}

// legoProvider is a minimal libdns to lego DNS-01 adapter: it appends the
// TXT value (never sets it) and deletes exactly its own value.
type legoProvider struct{ p *dnstest.Provider }

func (l legoProvider) Present(domain, _, keyAuth string) error {
	zone, rec, err := l.record(domain, keyAuth)
	if err != nil {
		return err
	}
	_, err = l.p.AppendRecords(context.Background(), zone, []libdns.Record{rec})
	return err
}

func (l legoProvider) CleanUp(domain, _, keyAuth string) error {
	zone, rec, err := l.record(domain, keyAuth)
	if err != nil {
		return err
	}
	_, err = l.p.DeleteRecords(context.Background(), zone, []libdns.Record{rec})
	return err
}

// Timeout keeps lego's propagation polling short.
func (legoProvider) Timeout() (timeout, interval time.Duration) {
	return 5 * time.Second, 5 * time.Millisecond
}

func (legoProvider) record(domain, keyAuth string) (string, libdns.Record, error) {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	zone, err := dns01.FindZoneByFqdn(info.EffectiveFQDN)
	if err != nil {
		return "", nil, err
	}
	return zone, libdns.TXT{Name: libdns.RelativeName(info.EffectiveFQDN, zone), Text: info.Value}, nil
}

// parseChain parses a PEM bundle into its certificates, leaf first.
func parseChain(t testing.TB, bundle []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		out = append(out, cert)
	}
	require.NotEmpty(t, out, "no certificate in bundle")
	return out
}

// verify checks that chain verifies to c's issuance roots for name.
func verify(t testing.TB, c *acmetest.CA, chain []*x509.Certificate, name string) {
	t.Helper()
	inter := x509.NewCertPool()
	for _, cert := range chain[1:] {
		inter.AddCert(cert)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName:       name,
		Roots:         c.Roots(t),
		Intermediates: inter,
	})
	require.NoError(t, err)
}

// uniqueLabel returns a DNS label unique to the test, so tests sharing the
// DNS server do not see each other's records.
func uniqueLabel(t testing.TB) string {
	r := strings.NewReplacer("/", "-", "_", "-")
	return strings.ToLower(r.Replace(t.Name()))
}

// obtain orders a certificate with default options.
func obtain(t testing.TB, client *lego.Client, req certificate.ObtainRequest) []*x509.Certificate {
	t.Helper()
	req.Bundle = true
	res, err := client.Certificate.Obtain(req)
	require.NoError(t, err)
	return parseChain(t, res.Certificate)
}

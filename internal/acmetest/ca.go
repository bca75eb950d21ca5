package acmetest

import (
	"crypto/x509"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"

	"github.com/nats-autotls/autotls/internal/dnstest"
)

// CA is an in-process Pebble ACME server on loopback, with the DNS server
// its validation authority queries and knobs to inject faults. Create it
// with [New]; it is shut down by the test's cleanup. The exported fields
// are set by New and must not be changed. CA is safe for concurrent use.
type CA struct {
	// DirectoryURL is the ACME directory, "https://127.0.0.1:port/dir".
	DirectoryURL string
	// HTTPClient trusts the directory's HTTPS certificate.
	HTTPClient *http.Client
	// DirectoryRoots holds the root of the directory's HTTPS certificate
	// (not the issuance roots: see [CA.Roots]).
	DirectoryRoots *x509.CertPool
	// DirectoryCert is that root itself, for callers that need it as PEM.
	DirectoryCert *x509.Certificate
	// DNS is the server Pebble's validation authority queries over TCP, and
	// the one lego must use as its recursive resolver.
	DNS *dnstest.Server
	// HTTPPort is the port Pebble dials for http-01 challenges: an http-01
	// solver listens on 127.0.0.1:HTTPPort.
	HTTPPort int
	// TLSPort is the port Pebble dials for tls-alpn-01 challenges.
	TLSPort int
	// ManagementURL is Pebble's management interface,
	// "https://127.0.0.1:port" (/roots/0, /intermediates/0,
	// /set-renewal-info/, ...), trusted by HTTPClient too.
	ManagementURL string

	db       *db.MemoryStore
	ca       *ca.CAImpl
	wfe      *wfe.WebFrontEndImpl
	api      http.Handler
	profiles map[string]Profile

	orders    atomic.Int64
	accounts  atomic.Int64
	badNonces atomic.Int64
	down      atomic.Bool
	rateLimit struct {
		sync.Mutex
		n          int
		retryAfter time.Duration
	}
	faults   faults
	received requestLog
}

// New starts a CA configured by opts and registers its shutdown with
// tb.Cleanup. It fails tb if the CA cannot start.
//
// Pebble runs in-process, tuned for speed: no validation sleeps, no
// authorization reuse, opts.NonceRejectPercent rejected nonces, and a
// front handler that answers a challenge POST only once Pebble has
// validated it and a finalize POST only once the certificate is issued, so
// that lego's first poll already sees the result.
//
// Pebble's validation authority keeps one goroutine per CA
// (va.VAImpl.processTasks) that cannot be stopped; everything else is
// stopped by the cleanup.
func New(tb testing.TB, opts Options) *CA {
	tb.Helper()
	c, err := start(tb, opts)
	if err != nil {
		tb.Fatalf("acmetest: %v", err)
	}
	return c
}

// start builds and starts the CA.
func start(tb testing.TB, opts Options) (*CA, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &CA{profiles: o.Profiles}
	c.faults.hang = make(chan struct{})
	if c.DNS, err = dnsFor(o); err != nil {
		return nil, err
	}
	if c.HTTPPort, err = freePort(); err != nil {
		return nil, err
	}
	if c.TLSPort, err = freePort(); err != nil {
		return nil, err
	}
	if err := c.buildPebble(o); err != nil {
		return nil, err
	}
	c.api = c.wfe.Handler()
	srv := httptest.NewTLSServer(http.HandlerFunc(c.serveHTTP))
	tb.Cleanup(srv.Close)
	tb.Cleanup(func() { close(c.faults.hang) }) // before srv.Close waits for hung requests
	mgmt := httptest.NewTLSServer(c.wfe.ManagementHandler())
	tb.Cleanup(mgmt.Close)

	c.DirectoryURL = srv.URL + wfe.DirectoryPath
	c.ManagementURL = mgmt.URL
	c.HTTPClient = srv.Client()
	c.DirectoryCert = srv.Certificate()
	c.DirectoryRoots = x509.NewCertPool()
	c.DirectoryRoots.AddCert(c.DirectoryCert)
	return c, nil
}

// buildPebble constructs Pebble's database, CA, validation authority and
// front end.
func (c *CA) buildPebble(o Options) error {
	logger := log.New(o.PebbleLog, "pebble ", log.LstdFlags)
	c.db = db.NewMemoryStore()
	for kid, key := range o.EAB {
		if err := c.db.AddExternalAccountKeyByID(kid, key); err != nil {
			return fmt.Errorf("Options.EAB[%q]: %w", kid, err)
		}
	}
	profiles := make(map[string]ca.Profile, len(o.Profiles))
	for name, p := range o.Profiles {
		profiles[name] = ca.Profile{Description: p.Description, ValidityPeriod: uint64(max(p.Validity/time.Second, 0))}
	}
	withEnv(pebbleEnv(o), func() {
		c.ca = ca.New(logger, c.db, "", o.KeyAlgorithm, o.AlternateRoots, o.ChainLength, profiles)
		v := va.New(logger, c.HTTPPort, c.TLSPort, false, c.DNS.Addr(), c.db)
		w := wfe.New(logger, c.db, v, c.ca, []string{"pebble.letsencrypt.org"}, false, len(o.EAB) > 0, 0, 0)
		c.wfe = &w
	})
	return nil
}

// dnsFor returns the DNS server for o, with o.Zones added.
func dnsFor(o Options) (*dnstest.Server, error) {
	srv := o.DNS
	if srv == nil {
		var err error
		if srv, err = SharedDNS(); err != nil {
			return nil, err
		}
	}
	for _, z := range o.Zones {
		srv.AddZone(z)
	}
	return srv, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

package acme

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	"github.com/go-acme/lego/v4/lego"
	"github.com/nats-autotls/autotls/internal/certutil"
)

// Issuer obtains certificates from an ACME CA. It implements tlsmgr's
// Issuer, RootsIssuer and RenewalAdvisor interfaces and can be used alone:
//
//	iss, err := acme.New(acme.Config{AgreeTOS: true, DNS01: &acme.DNS01{Provider: p}})
//	cert, err := iss.Obtain(ctx, []string{"nats.example.com"})
//
// Create it with [New]. Orders of one Issuer run one at a time; an Issuer
// is safe for concurrent use.
type Issuer struct {
	cfg     Config
	key     string // IssuerKey
	log     *slog.Logger
	http    *http.Client
	solvers []*tracker // every solver, to tie each to the current order
	dns     *tracker   // nil without DNS01
	web     *tracker   // nil without HTTP01

	// sem holds one token while an order runs (from the caller's turn
	// until lego returns, even if the caller gave up); it guards the fields
	// below.
	sem  chan struct{}
	lc   *lego.Client // built on the first order
	acct *account

	// dirMu guards dir.
	dirMu sync.Mutex
	dir   *directory

	// urlMu guards accountURL.
	urlMu      sync.Mutex
	accountURL string
}

// New checks cfg, fills its defaults and returns an Issuer. It does no
// I/O: the directory is fetched and the account registered (or loaded
// from Storage) on the first order. Configuration errors are *ConfigError.
func New(cfg Config) (*Issuer, error) {
	cfg = copyConfig(cfg)
	if err := validate(&cfg); err != nil {
		return nil, err
	}
	quietLego()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	i := &Issuer{cfg: cfg, key: issuerKey(cfg.DirectoryURL), log: log, http: httpClient(&cfg), sem: make(chan struct{}, 1)}
	i.buildSolvers()
	if cfg.Storage == nil {
		log.Warn("acme: no Storage configured: a new ACME account is registered in every process", "directory", cfg.DirectoryURL)
	}
	return i, nil
}

// copyConfig copies the parts of cfg that New may change or that the caller
// could change afterwards.
func copyConfig(cfg Config) Config {
	if cfg.EAB != nil {
		eab := *cfg.EAB
		cfg.EAB = &eab
	}
	if cfg.DNS01 != nil {
		d := *cfg.DNS01
		d.Resolvers = slices.Clone(d.Resolvers)
		cfg.DNS01 = &d
	}
	if cfg.HTTP01 != nil {
		h := *cfg.HTTP01
		cfg.HTTP01 = &h
	}
	if cfg.DNSPersist01 != nil {
		p := *cfg.DNSPersist01
		p.Resolvers = slices.Clone(p.Resolvers)
		cfg.DNSPersist01 = &p
	}
	return cfg
}

// IssuerKey identifies the CA in storage keys: the directory URL's host
// and path made safe for a file name, for example
// "acme-v02.api.letsencrypt.org-directory".
func (i *Issuer) IssuerKey() string { return i.key }

// Roots returns Config.CARoots: the roots issued certificates chain to, or
// nil for no opinion.
func (i *Issuer) Roots() *x509.CertPool { return i.cfg.CARoots }

// AccountURL returns the URL of the ACME account, or "" before the first
// order has registered or loaded it.
func (i *Issuer) AccountURL() string {
	i.urlMu.Lock()
	defer i.urlMu.Unlock()
	return i.accountURL
}

// Obtain generates a key of Config.KeyType and obtains a certificate for
// names (DNS names, wildcards such as "*.example.com", IP addresses). It
// returns when the certificate is issued, the order fails, or ctx ends; in
// the last case the challenge records are deleted in the background.
func (i *Issuer) Obtain(ctx context.Context, names []string) (*Certificate, error) {
	kt, _ := i.cfg.KeyType.certutil()
	key, err := certutil.GenerateKey(kt)
	if err != nil {
		return nil, fmt.Errorf("acme: obtain: %w", err)
	}
	chain, err := i.Issue(ctx, key, names, nil)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("acme: obtain: parse leaf: %w", err)
	}
	return &Certificate{Chain: chain, Key: key, Leaf: leaf}, nil
}

// Issue obtains a certificate for names whose public key is key.Public()
// and returns its chain as DER, leaf first. replaces, if not nil, is the
// certificate this one renews: the order carries its ARI identifier, so
// that the CA can exempt the renewal from rate limits.
//
// Issue returns when ctx ends, with ctx's error; the order's challenge
// records are then deleted in the background and the next order of this
// Issuer waits for that. Errors may be *RateLimitError, *ValidationError,
// *ConfigError or *UnreachableError.
func (i *Issuer) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	req, err := i.newRequest(key, names, replaces)
	if err != nil {
		return nil, err
	}
	select {
	case i.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("acme: obtain %s: waiting for the previous order: %w", req.label, ctx.Err())
	}
	o := newOrder(ctx)
	done := make(chan result, 1)
	go func() {
		defer func() { <-i.sem }()
		done <- i.run(o, req)
	}()
	select {
	case r := <-done:
		return r.chain, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("acme: obtain %s: %w", req.label, ctx.Err())
	}
}

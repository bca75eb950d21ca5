package acme

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	budget  budget // deadlines of each step, from Config.OrderTimeout
	http    *http.Client
	solvers []*tracker // every solver, to tie each to the current order
	dns     *tracker   // nil without DNS01
	web     *tracker   // nil without HTTP01
	tlsALPN *tracker   // nil without TLSALPN01
	alpn    *alpnSolver

	// sem holds one token while an order runs (from the caller's turn
	// until lego returns, even if the caller gave up); it guards the fields
	// below.
	sem  chan struct{}
	lc   *lego.Client // built on the first order
	acct *account

	// cur is the order in progress, for the transport.
	cur atomic.Pointer[order]

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
	i := &Issuer{cfg: cfg, key: issuerKey(cfg.DirectoryURL), log: log, budget: newBudget(cfg.OrderTimeout),
		http: httpClient(&cfg), sem: make(chan struct{}, 1)}
	i.buildSolvers()
	if d := cfg.DNS01; d != nil {
		if applied := claimLegoResolvers(d.Resolvers); len(d.Resolvers) > 0 && !sameResolvers(applied, d.Resolvers) && d.Lego != nil {
			log.Warn("acme: lego's process-wide DNS resolvers were set by another Issuer: the lego provider's own zone lookups use those",
				"lego_resolvers", applied, "resolvers", d.Resolvers)
		}
	}
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

// now reads Config.Clock.
func (i *Issuer) now() time.Time {
	if i.cfg.Clock != nil {
		return i.cfg.Clock.Now()
	}
	return time.Now()
}

// currentOrder returns the order in progress, or nil.
func (i *Issuer) currentOrder() *order { return i.cur.Load() }

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
// Issue returns when ctx ends, with ctx's error, or when the order has run
// for Config.OrderTimeout, with a *TimeoutError naming the step it was in;
// the order's challenge records are then deleted in the background and
// the next order of this Issuer waits for that (at most one ACME request
// or poll interval of the budget). Errors may be *RateLimitError,
// *ValidationError, *ConfigError, *UnreachableError or *TimeoutError.
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
	octx, cancel := context.WithTimeout(ctx, i.budget.order)
	o := newOrder(octx, i.budget)
	done := make(chan result, 1)
	go func() {
		defer func() { <-i.sem }()
		defer cancel()
		done <- i.run(o, req)
	}()
	var r result
	select {
	case r = <-done:
	case <-octx.Done():
		select {
		case r = <-done: // finished; octx is cancelled after done is sent
		default:
			r.err = octx.Err()
		}
	}
	if r.err != nil && ctx.Err() == nil && errors.Is(octx.Err(), context.DeadlineExceeded) {
		return nil, &TimeoutError{Names: req.label, Timeout: i.budget.order, Step: o.step.String()}
	}
	if r.err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("acme: obtain %s: %w", req.label, ctx.Err())
	}
	return r.chain, r.err
}

package acme

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	legoacme "github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/certificate"
	"github.com/nats-autotls/autotls/internal/certutil"
)

// request is one certificate order, prepared before it takes its turn.
type request struct {
	names    []string
	label    string // names for messages
	key      crypto.Signer
	csr      *x509.CertificateRequest
	replaces string // ARI certificate ID, "" for none
}

// result is what an order's goroutine hands back.
type result struct {
	chain [][]byte
	err   error
}

// newRequest checks the arguments of Issue and builds the CSR. lego is
// given the CSR rather than the key so that every key type works.
func (i *Issuer) newRequest(key crypto.Signer, names []string, replaces *x509.Certificate) (*request, error) {
	if key == nil {
		return nil, errors.New("acme: obtain: nil key")
	}
	if len(names) == 0 {
		return nil, errors.New("acme: obtain: no names: give at least one DNS name or IP address")
	}
	dnsNames, ips := certutil.SplitNames(names)
	for _, n := range dnsNames {
		if n == "" || strings.ContainsAny(n, " /") {
			return nil, fmt.Errorf("acme: obtain: invalid name %q: use a DNS name, a wildcard such as *.example.com, or an IP address", n)
		}
	}
	if len(ips) > 0 && i.cfg.HTTP01 == nil && i.cfg.TLSALPN01 == nil {
		return nil, &ConfigError{Field: "HTTP01", Value: "nil",
			Fix: "CAs validate IP addresses (" + ips[0].String() + ") over http-01 or tls-alpn-01 only, never DNS: set HTTP01 or TLSALPN01 (Let's Encrypt also needs Profile \"shortlived\")"}
	}
	req := &request{names: names, label: strings.Join(names, ", "), key: key}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: dnsNames, IPAddresses: ips}, key)
	if err != nil {
		return nil, fmt.Errorf("acme: obtain %s: create CSR: %w", req.label, err)
	}
	if req.csr, err = x509.ParseCertificateRequest(der); err != nil {
		return nil, fmt.Errorf("acme: obtain %s: parse CSR: %w", req.label, err)
	}
	if replaces != nil {
		if req.replaces, err = certificate.MakeARICertID(replaces); err != nil {
			return nil, fmt.Errorf("acme: obtain %s: replaced certificate: %w", req.label, err)
		}
	}
	return req, nil
}

// run performs one order. It runs in its own goroutine, holding i.sem,
// until lego returns, even if the caller has given up; cancelling o.ctx
// deletes the order's challenge records at once.
func (i *Issuer) run(o *order, req *request) result {
	i.cur.Store(o)
	for _, t := range i.solvers {
		t.cur.Store(o)
	}
	defer func() {
		for _, t := range i.solvers {
			t.cur.Store(nil)
		}
		i.cur.Store(nil)
	}()
	abandoned := make(chan struct{})
	stop := context.AfterFunc(o.ctx, func() {
		defer close(abandoned)
		if err := o.abandon(); err != nil {
			i.log.Warn("acme: order cancelled: challenge records left behind", "names", req.label, "err", err)
		}
	})
	defer func() {
		if !stop() {
			<-abandoned
		}
	}()

	start := time.Now()
	i.log.Info("acme: order started", "names", req.label, "profile", i.cfg.Profile, "replaces", req.replaces != "")
	chain, err := i.obtain(o.ctx, req)
	if err != nil {
		i.log.Info("acme: order failed", "names", req.label, "profile", i.cfg.Profile, "duration", time.Since(start), "err", err)
		return result{err: err}
	}
	i.log.Info("acme: order finished", "names", req.label, "profile", i.cfg.Profile, "duration", time.Since(start))
	return result{chain: chain}
}

// obtain orders the certificate. If the CA no longer knows the stored
// account (deactivated, or a test CA restarted), it registers a new one
// and tries once more.
func (i *Issuer) obtain(ctx context.Context, req *request) ([][]byte, error) {
	chain, err := i.obtainOnce(ctx, req)
	if err == nil || !accountGone(err) {
		return chain, err
	}
	i.log.Warn("acme: the CA does not know the stored account: registering a new one", "account", i.AccountURL())
	i.lc, i.acct.reg = nil, nil
	return i.obtainOnce(ctx, req)
}

// obtainOnce builds the client if needed and has lego order the
// certificate.
func (i *Issuer) obtainOnce(ctx context.Context, req *request) ([][]byte, error) {
	lc, err := i.client(ctx)
	if err != nil {
		return nil, err
	}
	if i.usePersist(req) {
		return i.obtainPersist(ctx, req)
	}
	lreq := certificate.ObtainForCSRRequest{
		CSR:            req.csr,
		Bundle:         true,
		PreferredChain: i.cfg.PreferredChain,
		Profile:        i.cfg.Profile,
		ReplacesCertID: req.replaces,
	}
	if i.cfg.Lifetime > 0 {
		lreq.NotAfter = time.Now().Add(i.cfg.Lifetime)
	}
	var res *certificate.Resource
	res, err = lc.Certificate.ObtainForCSR(lreq)
	if err != nil {
		return nil, i.wrap(req, classify(err, i.now()))
	}
	chain, err := certutil.DecodeChain(res.Certificate)
	if err != nil {
		return nil, fmt.Errorf("acme: obtain %s: certificate from CA: %w", req.label, err)
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("acme: obtain %s: certificate from CA: %w", req.label, err)
	}
	if !certutil.KeyMatches(req.key, leaf.PublicKey) {
		return nil, fmt.Errorf("acme: obtain %s: the CA returned a certificate for another key", req.label)
	}
	return chain, nil
}

// wrap adds the names to an error, unless it is one of this package's
// typed errors, which say enough.
func (i *Issuer) wrap(req *request, err error) error {
	switch err.(type) {
	case *RateLimitError, *ValidationError, *ConfigError, *UnreachableError, *TimeoutError:
		return err
	}
	return fmt.Errorf("acme: obtain %s: %w", req.label, err)
}

// accountGone reports whether err says that the account does not exist.
func accountGone(err error) bool {
	var pd *legoacme.ProblemDetails
	return errors.As(err, &pd) && pd.Type == accountDoesNotExist
}

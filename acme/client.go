package acme

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/challenge/http01"
	"github.com/go-acme/lego/v4/lego"
)

// overallRequestLimit replaces lego's default of 18 requests a second,
// which makes lego sleep before each authorization request; CAs enforce
// their own limits.
const overallRequestLimit = 1000

// userAgent identifies this package to the CA.
const userAgent = "nats-autotls"

// buildSolvers wraps the configured solvers in trackers.
func (i *Issuer) buildSolvers() {
	if d := i.cfg.DNS01; d != nil {
		var inner ctxSolver
		timeout, interval := dns01.DefaultPropagationTimeout, dns01.DefaultPollingInterval
		res := newResolver(d.Resolvers)
		if d.Provider != nil {
			inner = newLibdnsSolver(d.Provider, d.Zone, res, i.log)
		} else {
			inner = legoSolver{d.Lego}
			if pt, ok := d.Lego.(interface {
				Timeout() (time.Duration, time.Duration)
			}); ok {
				timeout, interval = pt.Timeout()
			}
		}
		if d.PropagationTimeout > 0 {
			timeout = d.PropagationTimeout
		}
		if d.PollingInterval > 0 {
			interval = d.PollingInterval
		}
		timeout = min(timeout, i.budget.propagation)
		i.dns = &tracker{inner: inner, kind: "dns-01", timeout: timeout, interval: min(interval, timeout),
			res: res, authoritative: !d.SkipAuthoritativeCheck, log: i.log}
		i.solvers = append(i.solvers, i.dns)
	}
	if h := i.cfg.HTTP01; h != nil {
		host, port, _ := net.SplitHostPort(h.Addr) // checked by New
		var inner ctxSolver = legoSolver{http01.NewProviderServer(host, port)}
		if h.Storage != nil {
			inner = storageSolver{h.Storage}
		}
		i.web = &tracker{inner: inner, kind: "http-01", log: i.log}
		i.solvers = append(i.solvers, i.web)
	}
	if i.cfg.TLSALPN01 != nil {
		i.alpn = newALPNSolver()
		i.tlsALPN = &tracker{inner: legoSolver{i.alpn}, kind: "tls-alpn-01", log: i.log}
		i.solvers = append(i.solvers, i.tlsALPN)
	}
}

// legoHTTP returns the HTTP client for lego: a copy of the configured one
// (lego wraps its Transport in place, and the caller's must stay
// untouched) whose requests are bounded by the order through caTransport
// rather than by the client's Timeout.
func (i *Issuer) legoHTTP() *http.Client {
	hc := *i.http
	hc.Timeout = 0
	hc.Transport = &caTransport{next: transportOf(i.http), now: i.now, cur: i.currentOrder}
	return &hc
}

// transportOf returns hc's RoundTripper.
func transportOf(hc *http.Client) http.RoundTripper {
	if hc.Transport != nil {
		return hc.Transport
	}
	return http.DefaultTransport
}

// client returns the lego client, building it and registering or loading
// the account on first use. The caller holds i.sem.
func (i *Issuer) client(ctx context.Context) (*lego.Client, error) {
	if i.lc != nil {
		return i.lc, nil
	}
	dir, err := i.directory(ctx)
	if err != nil {
		return nil, err
	}
	acct, err := i.loadAccount(ctx)
	if err != nil {
		return nil, err
	}
	if err := i.checkDirectory(dir, acct); err != nil {
		return nil, err
	}
	lc, err := lego.NewClient(&lego.Config{
		CADirURL:   i.cfg.DirectoryURL,
		User:       acct,
		UserAgent:  userAgent,
		HTTPClient: i.legoHTTP(),
		Certificate: lego.CertificateConfig{
			KeyType:             certcrypto.EC256, // unused: we send CSRs
			Timeout:             i.budget.request, // the wait for the certificate after finalize
			OverallRequestLimit: overallRequestLimit,
			DisableCommonName:   true,
		},
	})
	if err != nil {
		return nil, classify(fmt.Errorf("acme: client: %w", err), i.now())
	}
	if err := i.setSolvers(lc); err != nil {
		return nil, err
	}
	if acct.reg == nil {
		if err := i.register(ctx, lc, acct); err != nil {
			return nil, classify(err, i.now())
		}
	}
	i.urlMu.Lock()
	i.accountURL = acct.reg.URI
	i.urlMu.Unlock()
	i.lc = lc
	return lc, nil
}

// checkDirectory checks the configuration against what the CA announces.
func (i *Issuer) checkDirectory(dir *directory, acct *account) error {
	if p := i.cfg.Profile; p != "" && len(dir.Meta.Profiles) > 0 {
		if _, ok := dir.Meta.Profiles[p]; !ok {
			offered := make([]string, 0, len(dir.Meta.Profiles))
			for name := range dir.Meta.Profiles {
				offered = append(offered, name)
			}
			sort.Strings(offered)
			return &ConfigError{Field: "Profile", Value: p,
				Fix: "the CA offers profiles " + strings.Join(offered, ", ") + ": use one of them or leave Profile empty"}
		}
	}
	if dir.Meta.ExternalAccountRequired && i.cfg.EAB == nil && acct.reg == nil {
		return errEABRequired(nil)
	}
	return nil
}

// setSolvers installs the trackers as lego's challenge providers.
func (i *Issuer) setSolvers(lc *lego.Client) error {
	if i.dns != nil {
		if err := lc.Challenge.SetDNS01Provider(i.dns.forLego(), i.dns.preCheck()); err != nil {
			return fmt.Errorf("acme: dns-01 solver: %w", err)
		}
	}
	if i.web != nil {
		if err := lc.Challenge.SetHTTP01Provider(i.web); err != nil {
			return fmt.Errorf("acme: http-01 solver: %w", err)
		}
	}
	if i.tlsALPN != nil {
		if err := lc.Challenge.SetTLSALPN01Provider(i.tlsALPN); err != nil {
			return fmt.Errorf("acme: tls-alpn-01 solver: %w", err)
		}
	}
	return nil
}

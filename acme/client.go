package acme

import (
	"context"
	"fmt"
	"net"
	"slices"
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
		if d.Provider != nil {
			inner = newLibdnsSolver(d.Provider, d.Zone, i.log)
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
		i.dns = &tracker{inner: inner, timeout: timeout, interval: interval, log: i.log}
		i.solvers = append(i.solvers, i.dns)
	}
	if h := i.cfg.HTTP01; h != nil {
		host, port, _ := net.SplitHostPort(h.Addr) // checked by New
		i.web = &tracker{inner: legoSolver{http01.NewProviderServer(host, port)}, log: i.log}
		i.solvers = append(i.solvers, i.web)
	}
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
	if d := i.cfg.DNS01; d != nil {
		useResolvers(d.Resolvers)
	}
	// lego wraps the client's Transport in place: give it its own copy so
	// that the caller's client and ours stay untouched.
	hc := *i.http
	lc, err := lego.NewClient(&lego.Config{
		CADirURL:   i.cfg.DirectoryURL,
		User:       acct,
		UserAgent:  userAgent,
		HTTPClient: &hc,
		Certificate: lego.CertificateConfig{
			KeyType:             certcrypto.EC256, // unused: we send CSRs
			Timeout:             30 * time.Second,
			OverallRequestLimit: overallRequestLimit,
			DisableCommonName:   true,
		},
	})
	if err != nil {
		return nil, classify(fmt.Errorf("acme: client: %w", err), time.Now())
	}
	if err := i.setSolvers(lc); err != nil {
		return nil, err
	}
	if acct.reg == nil {
		if err := i.register(ctx, lc, acct); err != nil {
			return nil, classify(err, time.Now())
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
		d := i.cfg.DNS01
		opts := []dns01.ChallengeOption{i.dns.preCheck()}
		if d.SkipAuthoritativeCheck {
			opts = append(opts, dns01.DisableAuthoritativeNssPropagationRequirement(), dns01.RecursiveNSsPropagationRequirement())
		}
		if err := lc.Challenge.SetDNS01Provider(i.dns.forLego(), slices.Clip(opts)...); err != nil {
			return fmt.Errorf("acme: dns-01 solver: %w", err)
		}
	}
	if i.web != nil {
		if err := lc.Challenge.SetHTTP01Provider(i.web); err != nil {
			return fmt.Errorf("acme: http-01 solver: %w", err)
		}
	}
	return nil
}

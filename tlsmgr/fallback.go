package tlsmgr

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Fallback is an [Issuer] that tries several issuers in order, as
// certmagic does: each order goes to the first issuer, and to the next one
// only when it fails (unreachable, rate limited, refused). Every order
// starts again from the first issuer, so a deployment that fell back
// returns to its preferred CA at the next renewal once that CA is back.
//
// Certificates from any member are validated, stored and served the same
// way, under one storage key. A renewal's replaces (ACME ARI) and renewal
// advice go only to the member that issued the certificate. Create it with
// [NewFallback], or set [Config.Issuers]. It is safe for concurrent use.
type Fallback struct {
	issuers []Issuer
	key     string

	// mu guards issuedBy.
	mu       sync.Mutex
	issuedBy map[string]int // leaf serial (hex) -> member index, for leaves issued in this process
}

// NewFallback returns a Fallback over issuers, tried in the order given.
// It fails if issuers is empty or holds a nil issuer.
func NewFallback(issuers ...Issuer) (*Fallback, error) {
	if len(issuers) == 0 {
		return nil, errors.New("tlsmgr: fallback: no issuers: give at least one")
	}
	keys := make([]string, len(issuers))
	for i, iss := range issuers {
		if isNilValue(iss) {
			return nil, fmt.Errorf("tlsmgr: fallback: issuer %d is nil", i)
		}
		keys[i] = iss.IssuerKey()
	}
	return &Fallback{issuers: append([]Issuer(nil), issuers...), key: fallbackKey(keys), issuedBy: map[string]int{}}, nil
}

// fallbackKey names the chain of issuers: their keys joined by "+", or a
// digest when that would be long.
func fallbackKey(keys []string) string {
	k := strings.Join(keys, "+")
	if len(keys) == 1 || len(k) <= 100 {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return keys[0] + "+fallback-" + hex.EncodeToString(sum[:8])
}

// IssuerKey names the chain of issuers, so that a certificate from any
// member is found again under one storage key.
func (f *Fallback) IssuerKey() string { return f.key }

// Issuers returns the members, in order.
func (f *Fallback) Issuers() []Issuer { return append([]Issuer(nil), f.issuers...) }

// Issue asks each member in turn until one issues the certificate. replaces
// is passed only to the member that issued it. If every member fails, the
// error is a *FallbackError holding each member's error.
func (f *Fallback) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	from := -1
	if replaces != nil {
		from = f.memberOf([]*x509.Certificate{replaces})
	}
	fe := &FallbackError{}
	for i, iss := range f.issuers {
		rep := replaces
		if i != from {
			rep = nil
		}
		chain, err := iss.Issue(ctx, key, names, rep)
		if err == nil {
			f.remember(chain, i)
			return chain, nil
		}
		fe.Errs = append(fe.Errs, fmt.Errorf("%s: %w", iss.IssuerKey(), err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fe
}

// remember records which member issued chain.
func (f *Fallback) remember(chain [][]byte, member int) {
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issuedBy[leaf.SerialNumber.Text(16)] = member
}

// memberOf returns the index of the member that issued chain (leaf first):
// the one recorded at issue, else the first whose roots verify it; -1 if
// unknown.
func (f *Fallback) memberOf(chain []*x509.Certificate) int {
	f.mu.Lock()
	i, ok := f.issuedBy[chain[0].SerialNumber.Text(16)]
	f.mu.Unlock()
	if ok {
		return i
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	for i, iss := range f.issuers {
		ri, ok := iss.(RootsIssuer)
		if !ok {
			continue
		}
		if roots := ri.Roots(); roots != nil {
			if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: chain[0].NotBefore}); err == nil {
				return i
			}
		}
	}
	return -1
}

// IssuedBy returns the IssuerKey of the member that issued chain (leaf
// first), or "" if it cannot tell (a member without roots, after a
// restart).
func (f *Fallback) IssuedBy(chain []*x509.Certificate) string {
	if len(chain) == 0 {
		return ""
	}
	if i := f.memberOf(chain); i >= 0 {
		return f.issuers[i].IssuerKey()
	}
	return ""
}

// RenewalWindow asks the member that issued leaf for its advice (ACME
// ARI). It gives none (a zero window) if that member gives none or is
// unknown.
func (f *Fallback) RenewalWindow(ctx context.Context, leaf *x509.Certificate) (start, end time.Time, retryAfter time.Duration, err error) {
	i := f.memberOf([]*x509.Certificate{leaf})
	if i < 0 {
		return time.Time{}, time.Time{}, 0, nil
	}
	if ra, ok := f.issuers[i].(RenewalAdvisor); ok {
		return ra.RenewalWindow(ctx, leaf)
	}
	return time.Time{}, time.Time{}, 0, nil
}

// FallbackError reports that every member of a [Fallback] failed.
type FallbackError struct {
	// Errs are the members' errors, in order, each prefixed by the
	// member's IssuerKey.
	Errs []error
}

// Error lists every member's failure.
func (e *FallbackError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return "every issuer failed: " + strings.Join(msgs, "; ")
}

// Unwrap returns the members' errors.
func (e *FallbackError) Unwrap() []error { return e.Errs }

// RetryAt returns the earliest time a member allows the next attempt: the
// earliest of the members' Retry-After, or zero if any member gave none.
func (e *FallbackError) RetryAt() time.Time {
	var at time.Time
	for _, err := range e.Errs {
		var ra retryAter
		if !errors.As(err, &ra) || ra.RetryAt().IsZero() {
			return time.Time{}
		}
		if t := ra.RetryAt(); at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at
}

package acme

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-acme/lego/v4/challenge/dns01"
)

// cleanupTimeout bounds the deletion of one challenge record after its
// order has ended.
const cleanupTimeout = 30 * time.Second

// errOrderEnded refuses a Present that lego makes after the caller gave up.
var errOrderEnded = errors.New("acme: order ended: no new challenges are presented")

// ctxSolver is a challenge solver whose calls take a context: the libdns
// solver, or an adapter around a lego provider. A present that fails must
// undo what it may have done: lego never calls CleanUp after a failed
// Present, and the tracker remembers a challenge only once present has
// succeeded. The libdns solver does (it deletes the record a failed append
// may have written); a lego provider is trusted to.
type ctxSolver interface {
	present(ctx context.Context, o *order, domain, token, keyAuth string) error
	cleanUp(ctx context.Context, domain, token, keyAuth string) error
}

// legoSolver adapts a lego provider, which takes no context: the tracker
// abandons a call that outlives its deadline.
type legoSolver struct{ p LegoProvider }

func (l legoSolver) present(_ context.Context, _ *order, domain, token, keyAuth string) error {
	return l.p.Present(domain, token, keyAuth)
}

func (l legoSolver) cleanUp(_ context.Context, domain, token, keyAuth string) error {
	return l.p.CleanUp(domain, token, keyAuth)
}

// tracker is the challenge.Provider lego calls. It ties every challenge to
// the order in progress, so that when the caller gives up the records are
// deleted at once, new Presents are refused, and lego's own later CleanUp
// finds nothing left to do. It bounds every provider call by the order's
// budget, and for dns-01 checks propagation itself, with the Issuer's own
// resolvers. Orders of one Issuer run one at a time, so one order is
// current at most.
type tracker struct {
	inner             ctxSolver
	kind              string        // "dns-01" or "http-01", for messages
	timeout, interval time.Duration // propagation, for lego's ProviderTimeout

	res           *resolver // dns-01 only
	authoritative bool      // check propagation on the authoritative servers

	log *slog.Logger

	cur atomic.Pointer[order]
}

// Present implements lego's challenge.Provider.
func (t *tracker) Present(domain, token, keyAuth string) error {
	o := t.cur.Load()
	if o == nil || !o.live() {
		return errOrderEnded
	}
	step := fmt.Sprintf("%s present %s", t.kind, domain)
	o.step.set("%s", step)
	err := bounded(o.ctx, o.budget.provider, step, func(ctx context.Context) error {
		return t.inner.present(ctx, o, domain, token, keyAuth)
	})
	if err != nil {
		return err
	}
	args := challengeArgs{domain, token, keyAuth}
	if !o.add(t, args) {
		// The order was abandoned while the record was being written.
		return errors.Join(errOrderEnded, t.clean(args))
	}
	return nil
}

// CleanUp implements lego's challenge.Provider. A challenge already cleaned
// up (after a cancellation) is not an error.
func (t *tracker) CleanUp(domain, token, keyAuth string) error {
	args := challengeArgs{domain, token, keyAuth}
	if o := t.cur.Load(); o == nil || !o.remove(t, args) {
		return nil
	}
	err := t.clean(args)
	if err != nil {
		t.log.Warn("acme: challenge clean up failed", "domain", domain, "err", err)
	}
	return err
}

// Timeout implements lego's challenge.ProviderTimeout.
func (t *tracker) Timeout() (timeout, interval time.Duration) { return t.timeout, t.interval }

// clean deletes one challenge's record with a fresh, bounded context: the
// order's context may be over.
func (t *tracker) clean(a challengeArgs) error {
	step := fmt.Sprintf("%s clean up %s", t.kind, a.domain)
	return bounded(context.Background(), cleanupTimeout, step, func(ctx context.Context) error {
		return t.inner.cleanUp(ctx, a.domain, a.token, a.keyAuth)
	})
}

// preCheck replaces lego's propagation check, which uses lego's
// process-wide resolvers and no context, with this Issuer's: it follows
// CNAMEs and asks the Resolvers (and, unless SkipAuthoritativeCheck, the
// zone's authoritative servers). An abandoned order stops at once.
func (t *tracker) preCheck() dns01.ChallengeOption {
	return dns01.WrapPreCheck(func(domain, _, value string, _ dns01.PreCheckFunc) (bool, error) {
		o := t.cur.Load()
		if o == nil || !o.live() {
			return true, errOrderEnded
		}
		// domain is "*.name" for a wildcard; the record is that of name.
		fqdn := t.res.followCNAMEs(o.ctx, o.budget, challengeName(strings.TrimPrefix(domain, "*.")))
		o.step.set("dns-01 propagation check of %s", fqdn)
		done, err := t.res.propagated(o.ctx, o.budget, fqdn, value, t.authoritative)
		if err != nil {
			return false, fmt.Errorf("acme: dns-01 propagation check of %s: %w", fqdn, err)
		}
		return done, nil
	})
}

// bounded runs f with a context that ends after timeout, and returns when
// f does or when that context ends, whichever is first: a call that
// ignores its context (a lego provider, a stuck libdns provider) is
// abandoned in its goroutine, and the error names the step.
func bounded(ctx context.Context, timeout time.Duration, step string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("acme: %s: the provider did not return within %s: %w", step, timeout, ctx.Err())
		}
		return fmt.Errorf("acme: %s: %w", step, ctx.Err())
	}
}

// challengeArgs are the arguments of one Present.
type challengeArgs struct{ domain, token, keyAuth string }

// presented is one challenge presented by one tracker.
type presented struct {
	t    *tracker
	args challengeArgs
}

// order is the state of one ACME order shared with the trackers and the
// transport.
type order struct {
	ctx    context.Context
	budget budget
	step   step

	// mu guards ended and pending.
	mu      sync.Mutex
	ended   bool
	pending map[presented]struct{}
}

func newOrder(ctx context.Context, b budget) *order {
	return &order{ctx: ctx, budget: b, pending: make(map[presented]struct{})}
}

// live reports whether the order still accepts challenges.
func (o *order) live() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.ended && o.ctx.Err() == nil
}

// add records a presented challenge; false if the order has ended.
func (o *order) add(t *tracker, a challengeArgs) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return false
	}
	o.pending[presented{t, a}] = struct{}{}
	return true
}

// remove forgets a challenge; false if it was not pending.
func (o *order) remove(t *tracker, a challengeArgs) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := presented{t, a}
	_, ok := o.pending[p]
	delete(o.pending, p)
	return ok
}

// abandon ends the order and deletes every challenge still presented. It
// returns the cleanup errors.
func (o *order) abandon() error {
	o.mu.Lock()
	o.ended = true
	left := o.pending
	o.pending = make(map[presented]struct{})
	o.mu.Unlock()
	var errs []error
	for p := range left {
		if err := p.t.clean(p.args); err != nil {
			errs = append(errs, fmt.Errorf("acme: clean up after cancel: %w", err))
		}
	}
	return errors.Join(errs...)
}

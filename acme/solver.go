package acme

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-acme/lego/v4/challenge/dns01"
)

// cleanupTimeout bounds the deletion of one challenge record.
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
	present(ctx context.Context, domain, token, keyAuth string) error
	cleanUp(ctx context.Context, domain, token, keyAuth string) error
}

// legoSolver adapts a lego provider, which takes no context.
type legoSolver struct{ p LegoProvider }

func (l legoSolver) present(_ context.Context, domain, token, keyAuth string) error {
	return l.p.Present(domain, token, keyAuth)
}

func (l legoSolver) cleanUp(_ context.Context, domain, token, keyAuth string) error {
	return l.p.CleanUp(domain, token, keyAuth)
}

// tracker is the challenge.Provider lego calls. It ties every challenge to
// the order in progress, so that when the caller gives up the records are
// deleted at once, new Presents are refused, and lego's own later CleanUp
// finds nothing left to do. Orders of one Issuer run one at a time, so one
// order is current at most.
type tracker struct {
	inner             ctxSolver
	timeout, interval time.Duration // propagation, for lego's ProviderTimeout

	log *slog.Logger

	cur atomic.Pointer[order]
}

// Present implements lego's challenge.Provider.
func (t *tracker) Present(domain, token, keyAuth string) error {
	o := t.cur.Load()
	if o == nil || !o.live() {
		return errOrderEnded
	}
	if err := t.inner.present(o.ctx, domain, token, keyAuth); err != nil {
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
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	return t.inner.cleanUp(ctx, a.domain, a.token, a.keyAuth)
}

// preCheck wraps lego's propagation check so that an abandoned order stops
// waiting for propagation at once.
func (t *tracker) preCheck() dns01.ChallengeOption {
	return dns01.WrapPreCheck(func(_, fqdn, value string, check dns01.PreCheckFunc) (bool, error) {
		if o := t.cur.Load(); o != nil && !o.live() {
			return true, errOrderEnded
		}
		return check(fqdn, value)
	})
}

// challengeArgs are the arguments of one Present.
type challengeArgs struct{ domain, token, keyAuth string }

// presented is one challenge presented by one tracker.
type presented struct {
	t    *tracker
	args challengeArgs
}

// order is the state of one ACME order shared with the trackers.
type order struct {
	ctx context.Context

	// mu guards ended and pending.
	mu      sync.Mutex
	ended   bool
	pending map[presented]struct{}
}

func newOrder(ctx context.Context) *order {
	return &order{ctx: ctx, pending: make(map[presented]struct{})}
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

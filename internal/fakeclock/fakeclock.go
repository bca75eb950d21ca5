// Package fakeclock is a manual clock for tests: time moves only when the
// test calls [Clock.Advance] or [Clock.Set], and a test can wait until the
// code under test has armed its timers instead of sleeping.
//
// A *Clock satisfies tlsmgr.Clock.
package fakeclock

import (
	"context"
	"sync"
	"time"
)

// Clock is a fake clock. The zero value is not usable; use [New].
// Clock is safe for concurrent use.
type Clock struct {
	// mu guards every field below.
	mu     sync.Mutex
	now    time.Time
	timers map[*Timer]struct{}
	// changed is closed and replaced whenever the set of timers changes.
	changed chan struct{}
}

// New returns a clock reading start.
func New(start time.Time) *Clock {
	return &Clock{now: start, timers: make(map[*Timer]struct{}), changed: make(chan struct{})}
}

// Timer is a timer of a fake [Clock]; it fires when the clock is advanced
// to or past its deadline.
type Timer struct {
	c        chan time.Time
	clock    *Clock
	deadline time.Time
}

// C returns the channel the timer fires on (buffered: firing never blocks).
func (t *Timer) C() <-chan time.Time { return t.c }

// Stop prevents the timer from firing. It reports whether the timer was
// still pending.
func (t *Timer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.timers[t]; !ok {
		return false
	}
	delete(c.timers, t)
	c.notifyLocked()
	return true
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer firing d from now; d <= 0 fires at once. The
// result type is the same as tlsmgr.Timer.
func (c *Clock) NewTimer(d time.Duration) interface {
	C() <-chan time.Time
	Stop() bool
} {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Timer{c: make(chan time.Time, 1), clock: c, deadline: c.now.Add(d)}
	if d <= 0 {
		t.c <- c.now
		return t
	}
	c.timers[t] = struct{}{}
	c.notifyLocked()
	return t
}

// Advance moves the clock forward by d and fires every timer now due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to t (which may be in the past) and fires every timer
// now due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	fired := false
	for tm := range c.timers {
		if !tm.deadline.After(t) {
			tm.c <- t
			delete(c.timers, tm)
			fired = true
		}
	}
	if fired {
		c.notifyLocked()
	}
}

// Pending returns how many timers are armed and not yet fired or stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Next returns the earliest deadline of the pending timers, and false if
// there is none.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for t := range c.timers {
		if next.IsZero() || t.deadline.Before(next) {
			next = t.deadline
		}
	}
	return next, !next.IsZero()
}

// WaitTimers blocks until at least n timers are pending or ctx ends.
func (c *Clock) WaitTimers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		got, ch := len(c.timers), c.changed
		c.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

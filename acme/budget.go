package acme

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// DefaultOrderTimeout is the order timeout used when Config.OrderTimeout is
// zero.
const DefaultOrderTimeout = 10 * time.Minute

// Shares of the order timeout T given to each step (see [Config.OrderTimeout]).
const (
	requestShare     = 10 // one ACME request: T/10
	providerShare    = 4  // one DNS provider call: T/4
	propagationShare = 2  // the propagation wait of one challenge: T/2
	pollShare        = 60 // the wait between two polls of the CA: T/60
	queryShare       = 60 // one DNS query: T/60, at most maxQueryTimeout
)

// maxQueryTimeout bounds one DNS query whatever the order timeout.
const maxQueryTimeout = 10 * time.Second

// budget holds the deadline of every step of an order, all derived from
// one order timeout so that each is bounded and none can outlast the
// order.
type budget struct {
	order       time.Duration // the whole order
	request     time.Duration // one ACME request, answer and body
	provider    time.Duration // one DNS provider call (present or clean up)
	propagation time.Duration // the propagation wait of one challenge
	poll        time.Duration // the longest wait between polls
	query       time.Duration // one DNS query
}

// newBudget derives the budget from the order timeout t (zero: the default).
func newBudget(t time.Duration) budget {
	if t <= 0 {
		t = DefaultOrderTimeout
	}
	return budget{
		order:       t,
		request:     t / requestShare,
		provider:    t / providerShare,
		propagation: t / propagationShare,
		poll:        max(t/pollShare, time.Second),
		query:       min(t/queryShare, maxQueryTimeout),
	}
}

// pollSeconds shortens the CA's polling hint v (a Retry-After on a
// successful answer) to the budget's poll interval, in whole seconds (at
// least 1: lego reads 0 as "no hint" and then waits 5 s).
func (b budget) pollSeconds(v string, now time.Time) int {
	d, _ := parseRetryAfter(v, now)
	d = min(d, b.poll)
	return max(int(math.Ceil(d.Seconds())), 1)
}

// step is the step an order is in, for the error that reports its
// timeout.
type step struct{ p atomic.Pointer[string] }

func (s *step) set(format string, args ...any) {
	v := fmt.Sprintf(format, args...)
	s.p.Store(&v)
}

func (s *step) String() string {
	if v := s.p.Load(); v != nil {
		return *v
	}
	return "start"
}

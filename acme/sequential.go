package acme

import (
	"time"

	"github.com/go-acme/lego/v4/challenge"
)

// sequentialTracker is the tracker of a lego provider that can hold only
// one challenge record per name at a time: it implements lego's
// Sequential, as rfc2136 and exec do (an insert replaces the name's TXT
// RRset). lego then solves the authorizations of an order one after the
// other, pausing the provider's interval between them, instead of
// presenting the name's and its wildcard's records at once.
type sequentialTracker struct {
	*tracker
	every time.Duration
}

// Sequential implements lego's sequential solver interface.
func (s sequentialTracker) Sequential() time.Duration { return s.every }

// forLego returns t as lego must see it: a sequentialTracker when its lego
// provider solves sequentially, else t itself.
func (t *tracker) forLego() challenge.Provider {
	if l, ok := t.inner.(legoSolver); ok {
		if s, ok := l.p.(interface{ Sequential() time.Duration }); ok {
			return sequentialTracker{t, s.Sequential()}
		}
	}
	return t
}

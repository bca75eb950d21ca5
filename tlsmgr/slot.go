package tlsmgr

import (
	"sync"
	"sync/atomic"
	"time"
)

// A slot is one certificate shared by the roles with the same issuer,
// names and key type.
type slot struct {
	id         string // name-set id, part of the storage key
	names      []string
	keyType    KeyType
	issuer     Issuer // nil: the private CA
	roles      []*roleState
	clientAuth bool // some role dials with it: clientAuth EKU required

	// cur is the certificate served; nil until the first is installed.
	cur atomic.Pointer[certVersion]
	// ready is closed when the first certificate is installed.
	ready     chan struct{}
	readyOnce sync.Once
	// kick wakes the renewal loop to recompute its timer.
	kick chan struct{}

	// op serialises loading, renewing and ARI checks of this slot.
	op sync.Mutex

	// mu guards the fields below.
	mu sync.Mutex
	st renewState
	// interim is true while cur is from another issuer, served only until
	// the slot's own issuer's certificate arrives.
	interim bool
	// reported is the expiry level (expiryFine, ...) of cur already
	// logged.
	reported int
}

// newSlot makes an empty slot.
func newSlot(names []string, kt KeyType, iss Issuer) *slot {
	return &slot{
		id:      nameSetID(append(append([]string(nil), names...), "key:"+string(kt))),
		names:   names,
		keyType: kt,
		issuer:  iss,
		ready:   make(chan struct{}),
		kick:    make(chan struct{}, 1),
	}
}

// wake asks the renewal loop to recompute its next wake-up.
func (s *slot) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// roleNames lists the roles sharing the slot.
func (s *slot) roleNames() []string {
	out := make([]string, len(s.roles))
	for i, rs := range s.roles {
		out[i] = string(rs.role)
	}
	return out
}

// roleList lists the roles sharing the slot.
func (s *slot) roleList() []Role {
	out := make([]Role, len(s.roles))
	for i, rs := range s.roles {
		out[i] = rs.role
	}
	return out
}

// state returns a copy of the renewal state, whether the certificate
// served is interim, and the expiry level reported.
func (s *slot) state() (renewState, bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st, s.interim, s.reported
}

// setState replaces the renewal state.
func (s *slot) setState(st renewState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = st
}

// plan returns when the slot's certificate is due and why.
func (s *slot) plan(now time.Time) (time.Time, string) {
	st, interim, _ := s.state()
	v := s.cur.Load()
	if v == nil {
		return nextRenewal(now, nil, st, interim)
	}
	return nextRenewal(now, v.cert.Leaf, st, interim)
}

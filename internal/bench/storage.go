//go:build unix

package bench

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// stampStorage wraps a Storage to count its calls and note when the last
// certificate write returned: the moment a new certificate is durable and
// about to be served.
type stampStorage struct {
	tlsmgr.Storage

	// mu guards the fields below.
	mu        sync.Mutex
	lastStore time.Time
	calls     map[string]int
}

func newStampStorage(s tlsmgr.Storage) *stampStorage {
	return &stampStorage{Storage: s, calls: make(map[string]int)}
}

func (s *stampStorage) note(op string, stamp bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if stamp {
		s.lastStore = now
	}
}

// Store stores and notes the time a certificate write returned.
func (s *stampStorage) Store(ctx context.Context, key string, value []byte) error {
	err := s.Storage.Store(ctx, key, value)
	s.note("store", err == nil && strings.HasPrefix(key, "certificates/"))
	return err
}

// Load loads and counts.
func (s *stampStorage) Load(ctx context.Context, key string) ([]byte, error) {
	s.note("load", false)
	return s.Storage.Load(ctx, key)
}

// List lists and counts.
func (s *stampStorage) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	s.note("list", false)
	return s.Storage.List(ctx, prefix, recursive)
}

// Lock locks and counts.
func (s *stampStorage) Lock(ctx context.Context, name string) error {
	s.note("lock", false)
	return s.Storage.Lock(ctx, name)
}

// stored returns the time the last certificate write returned.
func (s *stampStorage) stored() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastStore
}

// snapshot returns a copy of the call counts.
func (s *stampStorage) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// installWatch notes when the Manager last reported a certificate
// installed, through Config.OnEvent: the event's own time, which the
// Manager takes right after the swap.
type installWatch struct {
	mu   sync.Mutex
	last time.Time
}

func (w *installWatch) onEvent(ev tlsmgr.Event) {
	if ev.Type != tlsmgr.EventInstalled {
		return
	}
	w.mu.Lock()
	w.last = ev.Time // the Manager's clock (time.Now by default) right after the swap
	w.mu.Unlock()
}

func (w *installWatch) installed() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

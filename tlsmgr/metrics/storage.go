package metrics

import (
	"context"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Storage returns s with its Lock measured: the time each acquisition took
// goes to nats_autotls_lock_wait_seconds, acquisitions slower than
// Config.LockWaitThreshold to nats_autotls_lock_waits_total and failed ones
// to nats_autotls_lock_failures_total. Every other method is s's own, and
// the result is a [tlsmgr.Watcher] if s is one.
func (c *Collector) Storage(s tlsmgr.Storage) tlsmgr.Storage {
	ts := &timedStorage{Storage: s, c: c}
	if w, ok := s.(tlsmgr.Watcher); ok {
		return &timedWatcher{timedStorage: ts, w: w}
	}
	return ts
}

// timedWatcher is a timedStorage over a Watcher.
type timedWatcher struct {
	*timedStorage
	w tlsmgr.Watcher
}

// Watch is the wrapped Storage's.
func (s *timedWatcher) Watch(ctx context.Context, prefix string) (<-chan string, error) {
	return s.w.Watch(ctx, prefix)
}

// timedStorage measures Lock and passes everything else through.
type timedStorage struct {
	tlsmgr.Storage
	c *Collector
}

// Lock takes the lock of the wrapped Storage and records how long it took.
func (s *timedStorage) Lock(ctx context.Context, name string) error {
	start := s.c.cfg.Now()
	err := s.Storage.Lock(ctx, name)
	if err != nil {
		s.c.lockFailures.Inc()
		return err
	}
	d := s.c.cfg.Now().Sub(start)
	s.c.lockWait.Observe(max(d.Seconds(), 0))
	if d > s.c.cfg.LockWaitThreshold {
		s.c.lockWaits.Inc()
	}
	return nil
}

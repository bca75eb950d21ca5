package kvstorage

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Watch reports every key under prefix ("" for all) stored or deleted from
// now on, through a KV watch of the bucket, until ctx ends; the channel is
// then closed. It implements [tlsmgr.Watcher]. A watcher whose server dies
// can stay silent for seconds before the client notices: callers keep a
// periodic check as a backstop.
func (s *Storage) Watch(ctx context.Context, prefix string) (<-chan string, error) {
	if err := tlsmgr.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("kvstorage: watch: %w", err)
	}
	filter := ">"
	if prefix != "" {
		enc, err := checkedKey(prefix)
		if err != nil {
			return nil, fmt.Errorf("kvstorage: watch: %w", err)
		}
		filter = enc + ".>"
	}
	b, err := s.buckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("kvstorage: watch %q: %w", prefix, err)
	}
	w, err := b.data.Watch(ctx, filter, jetstream.UpdatesOnly(), jetstream.MetaOnly())
	if err := s.observe(b, err); err != nil {
		return nil, fmt.Errorf("kvstorage: watch %q: %w", prefix, err)
	}
	out := make(chan string, 16)
	go s.forward(ctx, w, out)
	return out, nil
}

// forward decodes the watcher's keys onto out until ctx ends or the
// watcher stops.
func (s *Storage) forward(ctx context.Context, w jetstream.KeyWatcher, out chan<- string) {
	defer close(out)
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue // the end of the (empty) initial values
			}
			key, err := decodeKey(e.Key())
			if err != nil {
				continue
			}
			select {
			case out <- key:
			case <-ctx.Done():
				return
			}
		}
	}
}

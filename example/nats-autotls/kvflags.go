package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// kvStore is the storage of -autotls_kv_url: a JetStream key-value bucket
// on another NATS system, shared by a fleet.
type kvStore struct {
	nc      *nats.Conn
	storage *kvstorage.Storage
}

// openKV connects to the flags' NATS system and opens the bucket.
func (f *autoTLSFlags) openKV(ctx context.Context, logger *slog.Logger) (*kvStore, error) {
	opts := []nats.Option{nats.Name("nats-autotls storage"), nats.MaxReconnects(-1)}
	if f.kvCreds != "" {
		opts = append(opts, nats.UserCredentials(f.kvCreds))
	}
	if f.kvCA != "" {
		opts = append(opts, nats.RootCAs(f.kvCA))
	}
	nc, err := nats.Connect(f.kvURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("-autotls_kv_url %s: %w", f.kvURL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("-autotls_kv_url %s: %w", f.kvURL, err)
	}
	storage, err := kvstorage.New(ctx, js, kvstorage.Config{Bucket: f.kvBucket, Logger: logger})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("-autotls_kv_url %s: %w", f.kvURL, err)
	}
	return &kvStore{nc: nc, storage: storage}, nil
}

// close releases the bucket's locks and the connection.
func (k *kvStore) close() {
	if k == nil {
		return
	}
	_ = k.storage.Close()
	k.nc.Close()
}

// storage returns the Storage the flags ask for: the KV bucket if one is
// named, else the directory.
func (f *autoTLSFlags) openStorage(ctx context.Context, dir string, logger *slog.Logger) (tlsmgr.Storage, *kvStore, error) {
	if f.kvURL == "" {
		return tlsmgr.NewFileStorage(dir, tlsmgr.WithStorageLogger(logger)), nil, nil
	}
	kv, err := f.openKV(ctx, logger)
	if err != nil {
		return nil, nil, err
	}
	return kv.storage, kv, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// kvStore is the storage of -autotls_kv_url: a JetStream key-value bucket
// on another NATS system, shared by a fleet.
type kvStore struct {
	nc      *nats.Conn
	storage *kvstorage.Storage
	// responder answers http-01 challenges from the bucket; nil unless
	// the node orders over http-01.
	responder *http.Server
}

// fleetStorage is the bucket with the -autotls_storage directory as the
// Manager's local cache. Embedding keeps kvstorage's Watch visible to the
// Manager.
type fleetStorage struct {
	*kvstorage.Storage
	cache tlsmgr.Storage
	kv    *kvStore
}

// cacheOf returns the local cache to give a Manager on storage, or nil.
func cacheOf(storage tlsmgr.Storage) tlsmgr.Storage {
	if fl, ok := storage.(fleetStorage); ok {
		return fl.cache
	}
	return nil
}

// openKV connects to the flags' NATS system and opens the bucket. Neither
// fails when the NATS system is down: the connection keeps retrying, and
// the Manager starts from its cache meanwhile.
func (f *autoTLSFlags) openKV(ctx context.Context, logger *slog.Logger) (*kvStore, error) {
	opts := []nats.Option{
		nats.Name("nats-autotls storage"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			logger.Debug("nats-autotls: storage connection", "url", f.kvURLRedacted(), "error", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			logger.Warn("nats-autotls: storage connection lost; serving from the cache, ordering nothing until it returns",
				"url", f.kvURLRedacted(), "error", err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) { logger.Info("nats-autotls: storage connection back", "url", f.kvURLRedacted()) }),
	}
	if f.kvCreds != "" {
		opts = append(opts, nats.UserCredentials(f.kvCreds))
	}
	if f.kvCA != "" {
		opts = append(opts, nats.RootCAs(f.kvCA))
	}
	nc, err := nats.Connect(f.kvURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("-autotls_kv_url %s: %w", f.kvURLRedacted(), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("-autotls_kv_url %s: %w", f.kvURLRedacted(), err)
	}
	storage, err := kvstorage.New(ctx, js, kvstorage.Config{Bucket: f.kvBucket, Logger: logger, AllowOffline: true})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("-autotls_kv_url %s: %w", f.kvURLRedacted(), err)
	}
	if !nc.IsConnected() {
		logger.Warn("nats-autotls: storage unreachable at start; serving from the cache in -autotls_storage until it is back",
			"url", f.kvURLRedacted())
	}
	return &kvStore{nc: nc, storage: storage}, nil
}

// kvURLRedacted is -autotls_kv_url (a comma-separated list of URLs) with
// every password replaced by "xxxxx", for log lines and errors.
func (f *autoTLSFlags) kvURLRedacted() string {
	urls := strings.Split(f.kvURL, ",")
	for i, raw := range urls {
		u, err := url.Parse(strings.TrimSpace(raw))
		switch {
		case err != nil:
			urls[i] = "(not a URL)" // its error text would quote it
		default:
			urls[i] = u.Redacted()
		}
	}
	return strings.Join(urls, ",")
}

// close releases the bucket's locks and the connection.
func (k *kvStore) close() {
	if k == nil {
		return
	}
	if k.responder != nil {
		_ = k.responder.Close()
	}
	_ = k.storage.Close()
	k.nc.Close()
}

// openStorage returns the Storage the flags ask for: the directory, or,
// with -autotls_kv_url, the bucket with the directory as its local cache.
func (f *autoTLSFlags) openStorage(ctx context.Context, dir string, logger *slog.Logger) (tlsmgr.Storage, *kvStore, error) {
	local := tlsmgr.NewFileStorage(dir, tlsmgr.WithStorageLogger(logger))
	if f.kvURL == "" {
		return local, nil, nil
	}
	kv, err := f.openKV(ctx, logger)
	if err != nil {
		return nil, nil, err
	}
	return fleetStorage{Storage: kv.storage, cache: local, kv: kv}, kv, nil
}

// fleetHTTP01 shares http-01 challenges through the bucket when storage is
// one: the ordering node writes the token there, and every node answers
// the CA from it on -autotls_http01, listening from now until the node
// stops, so that a fleet behind one address validates whichever node the
// CA reaches. Otherwise it returns h unchanged.
func fleetHTTP01(h *acme.HTTP01, storage tlsmgr.Storage, logger *slog.Logger) (*acme.HTTP01, error) {
	fl, ok := storage.(fleetStorage)
	if !ok || h == nil {
		return h, nil
	}
	ln, err := net.Listen("tcp", h.Addr)
	if err != nil {
		return nil, fmt.Errorf("-autotls_http01 %s: every node of a fleet answers http-01 challenges there: %w", h.Addr, err)
	}
	srv := &http.Server{Handler: acme.HTTP01Responder(fl.Storage, nil), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("nats-autotls: http-01 responder stopped", "addr", h.Addr, "error", err)
		}
	}()
	fl.kv.responder = srv
	logger.Info("nats-autotls: answering http-01 challenges of the fleet", "addr", ln.Addr().String())
	return &acme.HTTP01{Addr: h.Addr, Storage: fl.Storage}, nil
}

package tlsmgr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// caStorageKey is where the default private CA is stored.
const caStorageKey = "privateca/ca.json"

// storedCA is the stored default private CA.
type storedCA struct {
	CertPEM string `json:"cert_pem"`
	KeyPEM  string `json:"key_pem"`
}

// ensurePrivateCA loads the default private CA from storage, or generates
// and stores one under a storage lock, so that Managers sharing a storage
// share the CA. A stored CA is read without the lock, so that a server
// with everything it needs starts from read-only or full storage. It does
// nothing if Config.PrivateCA is set.
func (m *Manager) ensurePrivateCA(ctx context.Context) error {
	if m.privateCA() != nil {
		return nil
	}
	sc, err := m.fleetCA(ctx)
	if err != nil {
		return err
	}
	ca, err := privateca.New(privateca.Config{CertPEM: []byte(sc.CertPEM), KeyPEM: []byte(sc.KeyPEM), Now: m.clock.Now})
	if err != nil {
		return fmt.Errorf("tlsmgr: private CA stored at %s: %w", caStorageKey, err)
	}
	m.ca.Store(&caHolder{ca})
	m.fleet.ca.Store(&sc)
	if m.cfg.Cache != nil {
		if data, err := json.MarshalIndent(sc, "", "  "); err == nil {
			if err := m.cacheStore(caStorageKey, data); err != nil {
				m.log.Warn("tlsmgr: cache the private CA", "error", err)
			}
		}
	}
	m.log.Info("tlsmgr: private CA ready", "issuer", ca.IssuerKey(), "subject", ca.Certificate().Subject.String())
	return nil
}

// fleetCA returns the stored CA, creating it if there is none. A failing
// storage is retried with backoff until ctx ends, unless Config.Cache
// holds the CA, which is then used. Contention is never an error: only a
// corrupt stored CA and the end of ctx are.
func (m *Manager) fleetCA(ctx context.Context) (storedCA, error) {
	wait := 50 * time.Millisecond
	for {
		sc, err := m.tryFleetCA(ctx)
		var corrupt *corruptCAError
		switch {
		case err == nil:
			return sc, nil
		case errors.As(err, &corrupt):
			return sc, err
		}
		if data, cerr := m.loadCached(ctx, caStorageKey); cerr == nil {
			if jerr := json.Unmarshal(data, &sc); jerr == nil {
				m.log.Warn("tlsmgr: storage unreachable; using the cached private CA", "error", err)
				return sc, nil
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return sc, fmt.Errorf("tlsmgr: private CA: %w (last attempt: %v)", context.Cause(ctx), err)
		case <-t.C:
		}
		m.log.Warn("tlsmgr: private CA: storage failed; retrying", "error", err, "retry_in", wait)
		wait = min(2*wait, 10*time.Second)
	}
}

// tryFleetCA makes one attempt at reading or creating the stored CA. A
// stored CA is read without the lock; otherwise it takes the lock, but
// stops waiting for it as soon as another Manager stores the CA (as a
// Watcher reports), so that a fleet starting together hands the lock
// around once, not once per Manager.
func (m *Manager) tryFleetCA(ctx context.Context) (storedCA, error) {
	stored, done := m.fleet.waitKey(caStorageKey)
	defer done()
	if sc, err := m.loadCA(ctx); !errors.Is(err, fs.ErrNotExist) {
		return sc, err
	}
	const lock = "privateca"
	lctx, stop := untilAdopted(ctx, stored)
	defer stop()
	if err := m.cfg.Storage.Lock(lctx, lock); err != nil {
		if wasAdopted(ctx, lctx) {
			return m.loadCA(ctx)
		}
		return storedCA{}, fmt.Errorf("tlsmgr: private CA: lock: %w", err)
	}
	defer func() { _ = m.cfg.Storage.Unlock(context.WithoutCancel(ctx), lock) }()
	return m.loadOrGenerateCA(ctx)
}

// loadCA loads the stored CA; an error matching fs.ErrNotExist if there
// is none.
func (m *Manager) loadCA(ctx context.Context) (storedCA, error) {
	var sc storedCA
	data, err := m.cfg.Storage.Load(ctx, caStorageKey)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return sc, err
	case err != nil:
		return sc, fmt.Errorf("tlsmgr: private CA: load %s: %w", caStorageKey, err)
	}
	if err := json.Unmarshal(data, &sc); err != nil {
		return sc, &corruptCAError{err}
	}
	return sc, nil
}

// corruptCAError reports a stored CA that cannot be parsed: retrying
// cannot help.
type corruptCAError struct{ err error }

func (e *corruptCAError) Error() string {
	return fmt.Sprintf("tlsmgr: private CA stored at %s is corrupt (%v): delete it to generate a new CA, or restore it", caStorageKey, e.err)
}

// loadOrGenerateCA returns the stored CA, generating and storing one if
// there is none. The caller holds the lock.
func (m *Manager) loadOrGenerateCA(ctx context.Context) (storedCA, error) {
	sc, err := m.loadCA(ctx)
	if !errors.Is(err, fs.ErrNotExist) {
		return sc, err
	}
	certPEM, keyPEM, err := privateca.Generate(privateca.DefaultName, privateca.DefaultCALifetime)
	if err != nil {
		return sc, fmt.Errorf("tlsmgr: private CA: generate: %w", err)
	}
	sc = storedCA{CertPEM: string(certPEM), KeyPEM: string(keyPEM)}
	data, err := json.MarshalIndent(sc, "", "  ")
	if err == nil {
		err = m.cfg.Storage.Store(ctx, caStorageKey, data)
	}
	if err != nil {
		return sc, fmt.Errorf("tlsmgr: private CA: store %s: %w", caStorageKey, err)
	}
	m.log.Info("tlsmgr: generated a private CA", "key", caStorageKey)
	return sc, nil
}

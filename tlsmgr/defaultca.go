package tlsmgr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

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
	sc, err := m.loadCA(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		sc, err = m.generateCALocked(ctx)
	}
	if err != nil {
		return err
	}
	ca, err := privateca.New(privateca.Config{CertPEM: []byte(sc.CertPEM), KeyPEM: []byte(sc.KeyPEM), Now: m.clock.Now})
	if err != nil {
		return fmt.Errorf("tlsmgr: private CA stored at %s: %w", caStorageKey, err)
	}
	m.ca.Store(&caHolder{ca})
	m.log.Info("tlsmgr: private CA ready", "issuer", ca.IssuerKey(), "subject", ca.Certificate().Subject.String())
	return nil
}

// generateCALocked takes the private CA's storage lock and returns the CA
// stored meanwhile by another Manager, or generates and stores one.
func (m *Manager) generateCALocked(ctx context.Context) (storedCA, error) {
	const lock = "privateca"
	if err := m.cfg.Storage.Lock(ctx, lock); err != nil {
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
		return sc, fmt.Errorf("tlsmgr: private CA stored at %s is corrupt (%v): delete it to generate a new CA, or restore it", caStorageKey, err)
	}
	return sc, nil
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

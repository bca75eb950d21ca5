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
// and stores one, under a storage lock so that Managers sharing a storage
// share the CA. It does nothing if Config.PrivateCA is set.
func (m *Manager) ensurePrivateCA(ctx context.Context) error {
	if m.privateCA() != nil {
		return nil
	}
	const lock = "privateca"
	if err := m.cfg.Storage.Lock(ctx, lock); err != nil {
		return fmt.Errorf("tlsmgr: private CA: lock: %w", err)
	}
	defer func() { _ = m.cfg.Storage.Unlock(context.WithoutCancel(ctx), lock) }()
	sc, err := m.loadOrGenerateCA(ctx)
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

// loadOrGenerateCA returns the stored CA, generating and storing one if
// there is none. The caller holds the lock.
func (m *Manager) loadOrGenerateCA(ctx context.Context) (storedCA, error) {
	var sc storedCA
	data, err := m.cfg.Storage.Load(ctx, caStorageKey)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &sc); err != nil {
			return sc, fmt.Errorf("tlsmgr: private CA stored at %s is corrupt (%v): delete it to generate a new CA, or restore it", caStorageKey, err)
		}
		return sc, nil
	case !errors.Is(err, fs.ErrNotExist):
		return sc, fmt.Errorf("tlsmgr: private CA: load %s: %w", caStorageKey, err)
	}
	certPEM, keyPEM, err := privateca.Generate(privateca.DefaultName, privateca.DefaultCALifetime)
	if err != nil {
		return sc, fmt.Errorf("tlsmgr: private CA: generate: %w", err)
	}
	sc = storedCA{CertPEM: string(certPEM), KeyPEM: string(keyPEM)}
	data, err = json.MarshalIndent(sc, "", "  ")
	if err == nil {
		err = m.cfg.Storage.Store(ctx, caStorageKey, data)
	}
	if err != nil {
		return sc, fmt.Errorf("tlsmgr: private CA: store %s: %w", caStorageKey, err)
	}
	m.log.Info("tlsmgr: generated a private CA", "key", caStorageKey)
	return sc, nil
}

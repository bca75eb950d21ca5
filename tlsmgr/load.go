package tlsmgr

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// load serves the slot's stored certificate, if any is usable. A stored
// certificate that is valid but not from the configured issuer (another
// ACME directory, another CA) is served until its replacement is ready.
func (m *Manager) load(ctx context.Context, s *slot) {
	s.op.Lock()
	defer s.op.Unlock()
	iss := m.issuer(s)
	key := storageKey(iss.IssuerKey(), s.id)
	v, sc, err := m.loadStored(ctx, key)
	switch {
	case err == nil:
		if m.check(s, v, m.rootsOf(iss)) == nil {
			m.install(s, v, sc.Renewal, false)
			return
		}
		if verr := m.check(s, v, nil); verr != nil {
			m.emit(m.event(s, EventRejected, v, fmt.Errorf("stored %s: %w", key, verr)))
		} else {
			m.install(s, v, sc.Renewal, true)
			return
		}
	case !errors.Is(err, fs.ErrNotExist):
		m.emit(m.event(s, EventFailed, nil, fmt.Errorf("tlsmgr: load %s: %w", key, err)))
	}
	if v := m.findOther(ctx, s, key); v != nil {
		m.install(s, v, renewState{}, true)
	}
}

// loadStored loads and decodes the value at key.
func (m *Manager) loadStored(ctx context.Context, key string) (*certVersion, *storedCert, error) {
	data, err := m.cfg.Storage.Load(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	return decodeStored(data)
}

// findOther looks through every stored certificate for one that covers the
// slot's names and is still valid, to serve while the configured issuer's
// certificate is obtained. It returns the one expiring last, or nil.
func (m *Manager) findOther(ctx context.Context, s *slot, skip string) *certVersion {
	keys, err := m.cfg.Storage.List(ctx, strings.TrimSuffix(certPrefix, "/"), true)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("tlsmgr: list stored certificates", "error", err)
		}
		return nil
	}
	var best *certVersion
	for _, k := range keys {
		if k == skip || !strings.HasSuffix(k, ".json") {
			continue
		}
		v, _, err := m.loadStored(ctx, k)
		if err != nil || m.checkLoose(s, v) != nil {
			continue
		}
		if best == nil || v.cert.Leaf.NotAfter.After(best.cert.Leaf.NotAfter) {
			best = v
		}
	}
	return best
}

// check validates v for slot s against roots (nil: the chain's own root).
func (m *Manager) check(s *slot, v *certVersion, roots *x509.CertPool) error {
	spec := m.spec(s)
	spec.roots = roots
	return validate(v, spec)
}

// checkLoose validates a certificate to serve meanwhile: any key type, any
// issuer.
func (m *Manager) checkLoose(s *slot, v *certVersion) error {
	spec := m.spec(s)
	spec.keyType = ""
	return validate(v, spec)
}

// spec is what every certificate of slot s must satisfy now.
func (m *Manager) spec(s *slot) checkSpec {
	return checkSpec{
		names:      s.names,
		keyType:    s.keyType,
		clientAuth: s.clientAuth,
		now:        m.clock.Now(),
		skew:       m.cfg.Skew,
	}
}

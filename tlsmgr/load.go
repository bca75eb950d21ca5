package tlsmgr

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
)

// load serves the slot's stored certificate if it is the slot's own (see
// checkOwn), with the renewal state stored with it. Without one, it
// restores the failure state stored alone and serves meanwhile the best
// interim certificate (see interimAllowed), if any: otherwise the slot
// serves nothing until its issuer's certificate arrives, and Start waits.
func (m *Manager) load(ctx context.Context, s *slot) {
	s.op.Lock()
	defer s.op.Unlock()
	iss := m.issuer(s)
	key := storageKey(iss.IssuerKey(), s.id)
	v, sc, err := m.loadServed(ctx, key)
	switch {
	case err == nil:
		verr := m.checkOwn(s, iss, v)
		if verr == nil {
			m.install(s, v, sc.Renewal, false)
			return
		}
		m.emit(m.event(s, EventRejected, v, fmt.Errorf("stored %s: %w", key, verr)))
	case !errors.Is(err, fs.ErrNotExist):
		m.emit(m.event(s, EventFailed, nil, fmt.Errorf("tlsmgr: load %s: %w", key, err)))
	}
	st := m.loadFailure(ctx, s, iss)
	if v := m.findInterim(ctx, s, iss, key); v != nil {
		m.install(s, v, st, true)
		m.log.Info("tlsmgr: serving a certificate from another issuer until this issuer's arrives",
			"roles", s.roleNames(), "served_issuer", v.issuerKey, "issuer", iss.IssuerKey(), "not_after", v.cert.Leaf.NotAfter)
		return
	}
	s.setState(st)
}

// loadStored loads and decodes the value at key.
func (m *Manager) loadStored(ctx context.Context, key string) (*certVersion, *storedCert, error) {
	data, err := m.cfg.Storage.Load(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	return decodeStored(data)
}

// findInterim looks through the certificates stored for the slot's names
// (see interimKeys) for one the slot may serve until its issuer's
// certificate arrives, and returns the one expiring last, or nil.
func (m *Manager) findInterim(ctx context.Context, s *slot, iss Issuer, skip string) *certVersion {
	keys, err := m.interimKeys(ctx, s)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("tlsmgr: list stored certificates", "error", err)
		}
		return nil
	}
	var best *certVersion
	for _, k := range keys {
		if k == skip {
			continue
		}
		v, sc, err := m.loadStored(ctx, k)
		if err != nil || !m.interimAllowed(s, iss, v, sc) {
			continue
		}
		if best == nil || v.cert.Leaf.NotAfter.After(best.cert.Leaf.NotAfter) {
			best = v
		}
	}
	return best
}

// checkOwn reports why v, stored at the slot's own key, is not the slot's
// own certificate: it must say it comes from iss, pass every check for the
// slot (names, key type, validity, usage) and chain to iss's roots. If iss
// has no opinion on roots, the chain must verify to its own last
// certificate, and, for a public issuer, not to the private CA.
func (m *Manager) checkOwn(s *slot, iss Issuer, v *certVersion) error {
	if v.issuerKey != iss.IssuerKey() {
		return &ValidationError{Names: s.names, Reason: fmt.Sprintf("issued by %s, not by %s", v.issuerKey, iss.IssuerKey())}
	}
	roots := m.rootsOf(iss)
	if err := m.check(s, v, roots); err != nil {
		return err
	}
	if roots == nil && m.isPublic(s) && m.fromPrivateCA(v) {
		return &ValidationError{Names: s.names, Reason: "issued by the private CA, which public clients do not trust, not by " + iss.IssuerKey()}
	}
	return nil
}

// interimAllowed reports whether slot s may serve v, stored for another
// issuer, until its issuer's certificate arrives: v passes the checks of
// the slot but its key type, and either chains to the roots of iss (the
// same CA under another key), or is a previous public certificate (issued
// for public roles, not by the private CA) served on a public role, unless
// Config.RefusePreviousIssuer. The private CA's leaf is never served on a
// public role.
func (m *Manager) interimAllowed(s *slot, iss Issuer, v *certVersion, sc *storedCert) bool {
	if m.checkLoose(s, v, nil) != nil {
		return false
	}
	if roots := m.rootsOf(iss); roots != nil && m.checkLoose(s, v, roots) == nil {
		return true
	}
	if !m.isPublic(s) || m.cfg.RefusePreviousIssuer || m.fromPrivateCA(v) {
		return false
	}
	// Certificates stored before the Public flag existed: public CAs no
	// longer issue the clientAuth usage that the private CA always does.
	return sc.Public || !hasEKU(v.cert.Leaf, x509.ExtKeyUsageClientAuth)
}

// isPublic reports whether the issuer of s is not the private CA.
func (m *Manager) isPublic(s *slot) bool {
	if s.issuer == nil {
		return false
	}
	ca := m.privateCA()
	return ca == nil || s.issuer.IssuerKey() != ca.IssuerKey()
}

// fromPrivateCA reports whether v was issued by the private CA: stored
// under its key, or chaining to its roots.
func (m *Manager) fromPrivateCA(v *certVersion) bool {
	ca := m.privateCA()
	if ca == nil {
		return false
	}
	if v.issuerKey == ca.IssuerKey() {
		return true
	}
	roots := ca.Roots()
	chain, err := v.parsedChain()
	return roots != nil && err == nil && verifyChain(chain, checkSpec{roots: roots, now: v.cert.Leaf.NotBefore}) == nil
}

// check validates v for slot s against roots (nil: the chain's own root).
func (m *Manager) check(s *slot, v *certVersion, roots *x509.CertPool) error {
	spec := m.spec(s)
	spec.roots = roots
	return validate(v, spec)
}

// checkLoose validates a certificate to serve meanwhile: any key type,
// against roots (nil: the chain's own root).
func (m *Manager) checkLoose(s *slot, v *certVersion, roots *x509.CertPool) error {
	spec := m.spec(s)
	spec.keyType = ""
	spec.roots = roots
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

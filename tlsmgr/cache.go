package tlsmgr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// cacheTimeout bounds one read or write of Config.Cache.
const cacheTimeout = 10 * time.Second

// cacheCert writes v, as served by s, to Config.Cache, if there is one.
// A failure is logged: the cache is a convenience, not the record.
func (m *Manager) cacheCert(s *slot, v *certVersion, st renewState) {
	if m.cfg.Cache == nil {
		return
	}
	data, err := encodeStored(s.names, v, st, m.isPublic(s))
	if err == nil {
		err = m.cacheStore(storageKey(v.issuerKey, s.id), data)
	}
	if err != nil {
		m.log.Warn("tlsmgr: cache certificate", "roles", s.roleNames(), "error", err)
	}
}

// cacheStore writes data at key in Config.Cache unless it holds it
// already.
func (m *Manager) cacheStore(key string, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), cacheTimeout)
	defer cancel()
	if old, err := m.cfg.Cache.Load(ctx, key); err == nil && string(old) == string(data) {
		return nil
	}
	return m.cfg.Cache.Store(ctx, key, data)
}

// loadServed loads the value at key from Storage or, if Storage fails
// (not a missing key: a failure, such as an unreachable bucket) and there
// is a Config.Cache, from the cache.
func (m *Manager) loadServed(ctx context.Context, key string) (*certVersion, *storedCert, error) {
	v, sc, err := m.loadStored(ctx, key)
	if err == nil || errors.Is(err, fs.ErrNotExist) || m.cfg.Cache == nil {
		return v, sc, err
	}
	data, cerr := m.loadCached(ctx, key)
	if cerr != nil {
		return nil, nil, err
	}
	m.log.Warn("tlsmgr: storage unreachable; serving the cached certificate", "key", key, "error", err)
	return decodeStored(data)
}

// loadCached reads key from Config.Cache.
func (m *Manager) loadCached(ctx context.Context, key string) ([]byte, error) {
	if m.cfg.Cache == nil {
		return nil, fmt.Errorf("tlsmgr: no cache: %w", fs.ErrNotExist)
	}
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	return m.cfg.Cache.Load(ctx, key)
}

// issuersPrefix holds one key per issuer that has stored certificates,
// so that finding the issuers never lists the certificates.
const issuersPrefix = "certificate-issuers"

// noteIssuer records, once per Manager and issuer, that issuerKey has
// stored certificates.
func (m *Manager) noteIssuer(ctx context.Context, issuerKey string) {
	key := issuersPrefix + "/" + sanitize(issuerKey)
	if _, done := m.fleet.noted.Load(key); done {
		return
	}
	if _, err := m.cfg.Storage.Load(ctx, key); err == nil || m.cfg.Storage.Store(ctx, key, []byte(issuerKey)) == nil {
		m.fleet.noted.Store(key, true)
	}
}

// interimKeys returns where a certificate for the slot's names may be
// stored: under every issuer that has stored certificates, with every key
// type. It lists the issuers (see noteIssuer), never the certificates, so
// that Start costs the same whatever the number of certificates stored;
// only a storage written before issuers were recorded is listed whole.
func (m *Manager) interimKeys(ctx context.Context, s *slot) ([]string, error) {
	dirs, err := m.cfg.Storage.List(ctx, issuersPrefix, false)
	for i, d := range dirs {
		dirs[i] = certPrefix + strings.TrimPrefix(d, issuersPrefix+"/")
	}
	if errors.Is(err, fs.ErrNotExist) {
		dirs, err = m.cfg.Storage.List(ctx, strings.TrimSuffix(certPrefix, "/"), false)
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, dir := range dirs {
		for _, kt := range certutil.KeyTypes() {
			id := nameSetID(append(slices.Clone(s.names), "key:"+string(kt)))
			keys = append(keys, dir+"/"+id+".json")
		}
	}
	return keys, nil
}

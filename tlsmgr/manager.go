package tlsmgr

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrNoCertificate reports that a role has no certificate yet: Start has
// not obtained it, or not finished.
var ErrNoCertificate = errors.New("tlsmgr: no certificate yet")

// ErrClosed reports that the Manager was closed: [Manager.Renew] after
// [Manager.Close], or a Renew that Close interrupted, returns an error
// wrapping it.
var ErrClosed = errors.New("tlsmgr: manager closed")

// A Manager obtains, stores and renews the certificates of a NATS server's
// roles and serves them through one fixed *tls.Config per role. Create it
// with [New], then call [Manager.Start]; [Manager.Close] stops renewing.
//
// A Manager is safe for concurrent use.
type Manager struct {
	cfg   Config // defaults filled, Roles moved into roles; never modified after New
	log   *slog.Logger
	clock Clock
	roles map[Role]*roleState
	slots []*slot

	// ca is the private CA: set by New if Config.PrivateCA is given, else
	// by Start.
	ca atomic.Pointer[caHolder]

	// fleet keeps the Manager in step with others sharing its Storage.
	fleet fleetState

	// mu guards the fields below.
	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	runCtx  context.Context // the loops' context, cancelled by Close
	wg      sync.WaitGroup
}

// caHolder boxes the private CA for an atomic pointer.
type caHolder struct{ RootsIssuer }

// New checks and copies cfg and prepares the role configurations. It does
// no I/O: certificates are loaded and obtained by Start.
func New(cfg Config) (*Manager, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: c, log: c.Logger, clock: c.Clock, roles: make(map[Role]*roleState)}
	if c.PrivateCA != nil {
		m.ca.Store(&caHolder{c.PrivateCA})
	}
	m.buildRoles()
	m.cfg.Roles = nil // each roleState holds what it needs
	return m, nil
}

// buildRoles creates each role and groups roles sharing issuer, names and
// key type into one certificate slot.
func (m *Manager) buildRoles() {
	byKey := make(map[string]*slot)
	for _, r := range Roles() {
		rc := m.cfg.Roles[r]
		rs := &roleState{role: r, names: rc.Names, verifyPeers: rc.VerifyPeers, peerRoots: rc.PeerRoots}
		iss := m.roleIssuer(r, rc)
		if r.Public() && iss != nil {
			rs.challenge = challengeCertifiers(iss)
		}
		key := issuerIdentity(iss) + "|" + string(rc.KeyType) + "|" + strings.Join(rc.Names, ",")
		s, ok := byKey[key]
		if !ok {
			s = newSlot(rc.Names, rc.KeyType, iss)
			byKey[key] = s
			m.slots = append(m.slots, s)
		}
		s.roles = append(s.roles, rs)
		s.clientAuth = s.clientAuth || r.Dials() || r.Mutual()
		rs.slot = s
		m.roles[r] = rs
	}
}

// roleIssuer returns the issuer configured for a role, nil meaning the
// private CA (resolved by Start when not configured).
func (m *Manager) roleIssuer(r Role, rc RoleConfig) Issuer {
	switch {
	case rc.Issuer != nil:
		return rc.Issuer
	case r.Public() && m.cfg.Issuer != nil:
		return m.cfg.Issuer
	case m.cfg.PrivateCA != nil:
		return m.cfg.PrivateCA
	}
	return nil
}

// issuerIdentity groups roles by issuer.
func issuerIdentity(iss Issuer) string {
	if iss == nil {
		return "\x00private"
	}
	return "key:" + iss.IssuerKey()
}

// privateCA returns the private CA, or nil before Start resolved it.
func (m *Manager) privateCA() RootsIssuer {
	if h := m.ca.Load(); h != nil {
		return h.RootsIssuer
	}
	return nil
}

// issuer returns the issuer of slot s, or nil before Start.
func (m *Manager) issuer(s *slot) Issuer {
	if s.issuer != nil {
		return s.issuer
	}
	if ca := m.privateCA(); ca != nil {
		return ca
	}
	return nil
}

// role returns the state of role r.
func (m *Manager) role(r Role) (*roleState, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return m.roles[r], nil
}

// Start loads the certificates from storage, obtains the missing ones and
// starts renewing. It returns when every role has a certificate, or with an
// error naming each role still without one when ctx ends; renewal goes on
// in the background until Close either way. With
// Config.StartInBackground it returns once storage is loaded. Start may be
// called once.
func (m *Manager) Start(ctx context.Context) error {
	runCtx, err := m.begin()
	if err != nil {
		return err
	}
	if err := m.launch(ctx, runCtx); err != nil {
		return err
	}
	if m.cfg.StartInBackground {
		return nil
	}
	return m.waitReady(ctx, runCtx)
}

// launch loads the stored certificates and starts the renewal loops. It
// holds the WaitGroup slot taken by begin, so Close waits for it, and
// stops early when Close cancels runCtx.
func (m *Manager) launch(ctx, runCtx context.Context) error {
	defer m.wg.Done()
	ctx, release := untilClosed(ctx, runCtx)
	defer release()
	keys := m.openWatch(runCtx, slog.LevelWarn)
	m.wg.Add(1)
	go m.watchStorage(runCtx, keys)
	if err := m.ensurePrivateCA(ctx); err != nil {
		return err
	}
	for _, s := range m.slots {
		m.load(ctx, s)
	}
	if runCtx.Err() != nil {
		return errors.New("tlsmgr: start: manager closed")
	}
	for _, s := range m.slots {
		m.wg.Add(1)
		go m.run(runCtx, s)
	}
	return nil
}

// untilClosed returns a context that also ends, with cause [ErrClosed],
// when Close cancels runCtx, and the function releasing it.
func untilClosed(ctx, runCtx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(runCtx, func() { cancel(ErrClosed) })
	return ctx, func() { stop(); cancel(nil) }
}

// begin marks the Manager started and returns the context of its loops.
// It takes a WaitGroup slot for Start, under mu, so that a concurrent Close
// waits for the loops Start launches.
func (m *Manager) begin() (context.Context, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return nil, errors.New("tlsmgr: start: manager is closed")
	case m.started:
		return nil, errors.New("tlsmgr: start: already started")
	}
	m.started = true
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.runCtx = ctx
	m.wg.Add(1)
	return ctx, nil
}

// waitReady waits until every slot has a certificate.
func (m *Manager) waitReady(ctx, runCtx context.Context) error {
	for _, s := range m.slots {
		select {
		case <-s.ready:
		case <-ctx.Done():
			return m.notReadyError(context.Cause(ctx))
		case <-runCtx.Done():
			return m.notReadyError(errors.New("manager closed"))
		}
	}
	return nil
}

// notReadyError names every role without a certificate and why.
func (m *Manager) notReadyError(cause error) error {
	var parts []string
	for _, s := range m.slots {
		if s.cur.Load() != nil {
			continue
		}
		msg := strings.Join(s.roleNames(), ",")
		if last := s.status().LastError; last != "" {
			msg += " (" + last + ")"
		}
		parts = append(parts, msg)
	}
	return fmt.Errorf("tlsmgr: start: no certificate for roles %s: %w", strings.Join(parts, "; "), cause)
}

// Close stops renewing and waits for the Manager's goroutines. The
// *tls.Config values keep serving the last certificates. Close is
// idempotent and always returns nil.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
	return nil
}

// TLSConfig returns the role's *tls.Config: the same pointer on every call,
// so that nats-server's ReloadOptions sees it unchanged. Certificates are
// served through its callbacks, which pick up renewals without a reload.
// Callers must not modify it (nats-server clones it before changing it).
func (m *Manager) TLSConfig(role Role) (*tls.Config, error) {
	rs, err := m.role(role)
	if err != nil {
		return nil, err
	}
	return m.roleConfig(rs), nil
}

// Names returns a copy of the names the role's certificate covers.
func (m *Manager) Names(role Role) []string {
	rs, err := m.role(role)
	if err != nil {
		return nil
	}
	return slices.Clone(rs.names)
}

// IssuerFor returns the issuer of the role's certificate, or nil for an
// unknown role or, before Start, for a role served by the default private CA.
func (m *Manager) IssuerFor(role Role) Issuer {
	rs, err := m.role(role)
	if err != nil {
		return nil
	}
	return m.issuer(rs.slot)
}

// Current returns the role's certificate as handshakes send it (its chain
// without a self-signed root) and a channel closed when it is replaced, so
// a watcher misses no change. It returns an error wrapping
// [ErrNoCertificate] if the role has none yet. The certificate must not be
// modified.
func (m *Manager) Current(role Role) (*tls.Certificate, <-chan struct{}, error) {
	rs, err := m.role(role)
	if err != nil {
		return nil, nil, err
	}
	v := rs.slot.cur.Load()
	if v == nil {
		return nil, nil, &roleError{role: role, op: "current", err: ErrNoCertificate}
	}
	return v.table.def, v.replaced, nil
}

// TrustBundlePEM returns the PEM bundle of CA certificates the mutual-TLS
// peers are verified against, or nil if the private CA cannot export it
// (a custom Config.PrivateCA without a BundlePEM() []byte method) or
// before Start resolved the default CA.
func (m *Manager) TrustBundlePEM() []byte {
	if b, ok := m.privateCA().(interface{ BundlePEM() []byte }); ok {
		return b.BundlePEM()
	}
	return nil
}

// Renew renews the role's certificate now, and with it every role sharing
// it, and returns when the new certificate is served or the attempt failed.
// The Manager must be started. Close cancels a Renew in progress and waits
// for it; the error Renew then returns, like that of a Renew after Close,
// wraps [ErrClosed].
func (m *Manager) Renew(ctx context.Context, role Role) error {
	rs, err := m.role(role)
	if err != nil {
		return err
	}
	runCtx, err := m.enter()
	if err != nil {
		return &roleError{role: role, op: "renew", err: err}
	}
	defer m.wg.Done()
	ctx, release := untilClosed(ctx, runCtx)
	defer release()
	defer rs.slot.wake()
	err = m.renewNow(ctx, rs.slot)
	if err != nil && runCtx.Err() != nil && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// enter takes a WaitGroup slot for a call running on its caller's
// goroutine, so that Close waits for it, and returns the context Close
// cancels. It fails if the Manager is not started or closed.
func (m *Manager) enter() (context.Context, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return nil, ErrClosed
	case !m.started:
		return nil, errors.New("manager not running: call Start first")
	}
	m.wg.Add(1)
	return m.runCtx, nil
}

// rootsOf returns the roots iss vouches for, or nil.
func (m *Manager) rootsOf(iss Issuer) *x509.CertPool {
	if ri, ok := iss.(RootsIssuer); ok {
		return ri.Roots()
	}
	return nil
}

// roleError wraps an error with the role and operation.
type roleError struct {
	role Role
	op   string
	err  error
}

func (e *roleError) Error() string {
	return fmt.Sprintf("tlsmgr: role %s: %s: %v", e.role, e.op, e.err)
}

func (e *roleError) Unwrap() error { return e.err }

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/atomicfile"
	"github.com/nats-autotls/autotls/internal/confpos"
	"github.com/nats-autotls/autotls/internal/natslog"
	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// node is a running NATS server on managed TLS.
type node struct {
	manager    *tlsmgr.Manager
	sharedCA   *sharedCA // nil unless -autotls_ca_cert
	kv         *kvStore  // nil unless -autotls_kv_url
	bundlePath string
	acmeRoots  string // -autotls_acme_roots, for the ready line
	sidecar    bool   // -autotls_export: no server in this process
	cliTLS     cliTLS // the client listener's TLS from --tls* flags, put back at each reload
	// serverLog is the server's logger (the process's one log); nil means
	// nats-server's own, as ConfigureLogger sets it.
	serverLog *natslog.Log
	// autotls re-reads the autotls configuration on SIGHUP; nil means
	// nothing to re-read.
	autotls *autotlsReload

	// server is the running server: nil until start has started it (and
	// always in sidecar mode). Set under mu; read it with srv unless
	// start has returned.
	server *server.Server

	mu   sync.Mutex      // guards opts, replaced by reloadConfig, and server
	opts *server.Options // the options the server runs with
}

// srv returns the running server, nil if there is none yet.
func (n *node) srv() *server.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.server
}

// currentOpts returns the options the server runs with.
func (n *node) currentOpts() *server.Options {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.opts
}

// prepareNode opens the storage and builds the Manager, but starts
// nothing: no certificate is ordered and nothing listens until start, so
// that the status port can listen while the first order runs.
// st sees the Manager's events and status from the start.
func prepareNode(ctx context.Context, opts *server.Options, af *autoTLSFlags, logger *slog.Logger, st *status) (*node, error) {
	dir, err := af.storageDir()
	if err != nil {
		return nil, err
	}
	storage, kv, err := af.openStorage(ctx, dir, logger)
	if err != nil {
		return nil, err
	}
	m, shared, err := af.manager(storage, logger, st)
	if err != nil {
		kv.close()
		return nil, err
	}
	st.setManager(m)
	return &node{manager: m, opts: opts, sharedCA: shared, kv: kv,
		bundlePath: af.bundlePath(dir), acmeRoots: af.acmeRoots, sidecar: af.exportDir != "", cliTLS: af.cliTLS}, nil
}

// start obtains the certificates (in the background with
// -autotls_background), writes the private CA's trust bundle and, unless in
// sidecar mode, starts the server and logs the ready line.
func (n *node) start(ctx context.Context, logger *slog.Logger) error {
	if !n.sidecar { // refuse what cannot be honoured before ordering anything
		if err := natsopts.Check(n.opts, n.manager); err != nil {
			return confpos.Annotate(operatorFix(err), n.opts.ConfigFile)
		}
	}
	if err := n.manager.Start(ctx); err != nil {
		return err
	}
	if err := n.writeBundle(logger); err != nil {
		return err
	}
	if n.sidecar {
		return nil // the server runs elsewhere
	}
	if err := n.startServer(ctx); err != nil {
		return err
	}
	n.logUnmanaged(logger)
	n.logReady(ctx, logger)
	return nil
}

// storageDir is -autotls_storage, or nats-autotls in the user cache
// directory.
func (f *autoTLSFlags) storageDir() (string, error) {
	if f.storage != "" {
		return f.storage, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("-autotls_storage not set and no user cache directory: %w", err)
	}
	return filepath.Join(cache, "nats-autotls"), nil
}

// manager builds (and does not start) a Manager on storage as the flags
// configure it, and returns the shared CA if the flags name one.
func (f *autoTLSFlags) manager(storage tlsmgr.Storage, logger *slog.Logger, st *status) (*tlsmgr.Manager, *sharedCA, error) {
	cfg := tlsmgr.Config{Names: f.nameList(), Roles: f.roles(), KeyType: f.keyType(), Storage: storage, Cache: cacheOf(storage), Logger: logger, StartInBackground: f.background}
	if st != nil { // metrics: lock waits and events
		cfg.Storage, cfg.OnEvent = st.metrics.Storage(storage), st.observe
	}
	shared, err := f.issuers(&cfg, storage, logger)
	if err != nil {
		return nil, nil, err
	}
	m, err := tlsmgr.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return m, shared, nil
}

// issuers fills cfg's Issuer and PrivateCA from the flags, and returns the
// shared CA if the flags name one.
func (f *autoTLSFlags) issuers(cfg *tlsmgr.Config, storage tlsmgr.Storage, logger *slog.Logger) (*sharedCA, error) {
	var shared *sharedCA
	if f.caCert != "" {
		var err error
		if shared, err = loadSharedCA(f); err != nil {
			return nil, err
		}
		cfg.PrivateCA = shared.ca
	}
	if f.directory == "" {
		return shared, nil
	}
	dirRoots, err := f.directoryRoots()
	if err != nil {
		return nil, err
	}
	dns01, http01, err := f.solvers()
	if err == nil {
		http01, err = fleetHTTP01(http01, storage, logger)
	}
	if err != nil {
		return nil, err
	}
	ac := acme.Config{
		EAB:            f.eab(),
		DirectoryRoots: dirRoots,
		DirectoryURL:   expandDirectory(f.directory),
		Email:          f.email,
		AgreeTOS:       f.agreeTOS,
		Storage:        storage,
		Profile:        f.profile,
		DNS01:          dns01,
		HTTP01:         http01,
		Logger:         logger,
	}
	if f.tlsALPN {
		ac.TLSALPN01 = &acme.TLSALPN01{}
	}
	if f.dnsPersist {
		ac.DNSPersist01 = &acme.DNSPersist01{Resolvers: splitList(f.resolvers)}
	}
	iss, err := acme.New(ac)
	if err != nil {
		return nil, err
	}
	if len(f.fallback) == 0 {
		cfg.Issuer = iss
		return shared, nil
	}
	cfg.Issuers = []tlsmgr.Issuer{iss}
	for _, dir := range f.fallback {
		fb := ac
		fb.DirectoryURL, fb.EAB = expandDirectory(dir), nil // EAB credentials belong to one CA
		next, err := acme.New(fb)
		if err != nil {
			return nil, fmt.Errorf("acme.fallback %s: %w", dir, err)
		}
		cfg.Issuers = append(cfg.Issuers, next)
	}
	return shared, nil
}

func (f *autoTLSFlags) bundlePath(dir string) string {
	if f.bundleOut != "" {
		return f.bundleOut
	}
	return filepath.Join(dir, "ca-bundle.pem")
}

// writeBundle writes the private CA bundle for clients and peers to trust,
// unless the file already holds it: a node with everything it needs starts
// from read-only or full storage.
func (n *node) writeBundle(logger *slog.Logger) error {
	bundle := n.manager.TrustBundlePEM()
	if old, err := os.ReadFile(n.bundlePath); err == nil && bytes.Equal(old, bundle) {
		logger.Debug("private CA trust bundle unchanged", "path", n.bundlePath)
		return nil
	}
	if err := atomicfile.WriteFile(n.bundlePath, bundle, 0o644); err != nil {
		return fmt.Errorf("write the private CA bundle: %w", err)
	}
	logger.Info("private CA trust bundle written", "path", n.bundlePath)
	return nil
}

// reload is SIGHUP: it moves the shared CA to its files and re-applies the
// configuration file, whichever the node has.
func (n *node) reload(ctx context.Context, logger *slog.Logger) error {
	if err := n.autotls.reload(ctx); err != nil {
		return err
	}
	var errs []error
	if n.sharedCA != nil {
		changed, err := n.sharedCA.reload(ctx, n.manager, logger)
		errs = append(errs, err)
		if changed {
			errs = append(errs, n.writeBundle(logger))
		}
	}
	if n.srv() != nil && n.currentOpts().ConfigFile != "" {
		errs = append(errs, n.reloadConfig(ctx))
	}
	return errors.Join(errs...)
}

func (n *node) startServer(ctx context.Context) error {
	n.opts.NoSigs = true // signals are handled in main
	n.opts.NoLog = n.ownsServerLog()
	if err := natsopts.Apply(n.opts, n.manager); err != nil {
		return confpos.Annotate(err, n.opts.ConfigFile)
	}
	s, err := server.NewServer(n.opts)
	if err != nil {
		return err
	}
	n.setServerLog(s, n.opts)
	s.Start()
	if err := waitReady(ctx, s, 30*time.Second); err != nil {
		s.Shutdown()
		return err
	}
	n.mu.Lock()
	n.server = s
	n.mu.Unlock()
	return nil
}

// reloadConfig re-reads the configuration file, merges the command-line
// flags over it as nats-server does, and applies it with managed TLS.
func (n *node) reloadConfig(ctx context.Context) error {
	cur := n.currentOpts()
	if cur.ConfigFile == "" {
		return fmt.Errorf("no configuration file to reload (start with -c)")
	}
	fileOpts, err := server.ProcessConfigFile(cur.ConfigFile)
	if err != nil {
		return err
	}
	newOpts := server.MergeOptions(fileOpts, server.FlagSnapshot)
	if err := n.cliTLS.apply(newOpts); err != nil { // MergeOptions keeps no TLS from flags
		return err
	}
	newOpts.NoSigs = true
	newOpts.NoLog = n.ownsServerLog()
	if err := reload.Options(ctx, n.srv(), newOpts, n.manager); err != nil {
		return confpos.Annotate(err, cur.ConfigFile)
	}
	// A reload that changed logging options gave the server a logger of
	// its own: move the one log to the new options and give it back.
	n.setServerLog(n.srv(), newOpts)
	n.mu.Lock()
	n.opts = newOpts
	n.mu.Unlock()
	return nil
}

// ownsServerLog reports whether the server must never configure a logger
// of its own (Options.NoLog): in JSON mode, where a reload that changes
// logging options would otherwise write a few text lines before
// setServerLog gives the one log back. The cost: a reload that changes
// trace does not change it on connections that exist already.
func (n *node) ownsServerLog() bool {
	return n.serverLog != nil && n.serverLog.JSON()
}

// waitReady waits until s accepts connections, at most max, and returns
// early if ctx ends (a signal, or a fatal error such as a port in use).
func waitReady(ctx context.Context, s *server.Server, max time.Duration) error {
	deadline := time.Now().Add(max)
	for !s.ReadyForConnections(50 * time.Millisecond) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("nats-server not started: %w", context.Cause(ctx))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nats-server not ready for connections after %v", max)
		}
	}
	return nil
}

// setServerLog makes the process's log the server's logger, configured
// by opts (-l, -D, -V, ...).
func (n *node) setServerLog(s *server.Server, opts *server.Options) {
	if n.serverLog == nil {
		s.ConfigureLogger()
		return
	}
	if err := n.serverLog.Configure(natslog.FromServerOptions(opts, false)); err != nil {
		n.serverLog.Errorf("Keeping the previous log settings: %v", err)
	}
	s.SetLoggerV2(n.serverLog, opts.Debug, opts.Trace, opts.TraceVerbose)
}

func (n *node) close() {
	if s := n.srv(); s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
	n.manager.Close()
	n.kv.close()
}

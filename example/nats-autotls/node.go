package main

import (
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
	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// node is a running NATS server on managed TLS.
type node struct {
	manager    *tlsmgr.Manager
	server     *server.Server
	sharedCA   *sharedCA // nil unless -autotls_ca_cert
	kv         *kvStore  // nil unless -autotls_kv_url
	bundlePath string

	mu   sync.Mutex      // guards opts, replaced by reloadConfig
	opts *server.Options // the options the server runs with
}

// currentOpts returns the options the server runs with.
func (n *node) currentOpts() *server.Options {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.opts
}

func startNode(ctx context.Context, opts *server.Options, af *autoTLSFlags, logger *slog.Logger) (*node, error) {
	dir := af.storage
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("-autotls_storage not set and no user cache directory: %w", err)
		}
		dir = filepath.Join(cache, "nats-autotls")
	}
	storage, kv, err := af.openStorage(ctx, dir, logger)
	if err != nil {
		return nil, err
	}
	n, err := newNode(ctx, opts, af, storage, logger)
	if err != nil {
		kv.close()
		return nil, err
	}
	n.kv, n.bundlePath = kv, af.bundlePath(dir)
	if err := n.writeBundle(logger); err != nil {
		n.close()
		return nil, err
	}
	if af.exportDir != "" {
		return n, nil // sidecar mode: the server runs elsewhere
	}
	if err := n.startServer(); err != nil {
		n.close()
		return nil, err
	}
	logger.Info("nats-autotls ready", "client_url", n.server.ClientURL(),
		"try", fmt.Sprintf("nats --tlsca %s -s %s pub demo hi", af.bundlePath(dir), n.server.ClientURL()))
	return n, nil
}

// newNode starts a Manager on storage as the flags configure it.
func newNode(ctx context.Context, opts *server.Options, af *autoTLSFlags, storage tlsmgr.Storage, logger *slog.Logger) (*node, error) {
	cfg := tlsmgr.Config{Names: af.nameList(), Storage: storage, Logger: logger, StartInBackground: af.background}
	shared, err := af.issuers(&cfg, storage, logger)
	if err != nil {
		return nil, err
	}
	m, err := tlsmgr.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.Start(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return &node{manager: m, opts: opts, sharedCA: shared}, nil
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
	dns01, http01 := f.solvers()
	iss, err := acme.New(acme.Config{
		DirectoryRoots: dirRoots,
		DirectoryURL:   f.directoryURL(),
		Email:          f.email,
		AgreeTOS:       f.agreeTOS,
		Storage:        storage,
		Profile:        f.profile,
		DNS01:          dns01,
		HTTP01:         http01,
		Logger:         logger,
	})
	if err != nil {
		return nil, err
	}
	cfg.Issuer = iss
	return shared, nil
}

func (f *autoTLSFlags) bundlePath(dir string) string {
	if f.bundleOut != "" {
		return f.bundleOut
	}
	return filepath.Join(dir, "ca-bundle.pem")
}

// writeBundle writes the private CA bundle for clients and peers to trust.
func (n *node) writeBundle(logger *slog.Logger) error {
	if err := atomicfile.WriteFile(n.bundlePath, n.manager.TrustBundlePEM(), 0o644); err != nil {
		return fmt.Errorf("write the private CA bundle: %w", err)
	}
	logger.Info("private CA trust bundle written", "path", n.bundlePath)
	return nil
}

// reload is SIGHUP: it moves the shared CA to its files and re-applies the
// configuration file, whichever the node has.
func (n *node) reload(ctx context.Context, logger *slog.Logger) error {
	var errs []error
	if n.sharedCA != nil {
		changed, err := n.sharedCA.reload(ctx, n.manager, logger)
		errs = append(errs, err)
		if changed {
			errs = append(errs, n.writeBundle(logger))
		}
	}
	if n.server != nil && n.currentOpts().ConfigFile != "" {
		errs = append(errs, n.reloadConfig(ctx))
	}
	return errors.Join(errs...)
}

func (n *node) startServer() error {
	n.opts.NoSigs = true // signals are handled in main
	if err := natsopts.Apply(n.opts, n.manager); err != nil {
		return err
	}
	s, err := server.NewServer(n.opts)
	if err != nil {
		return err
	}
	s.ConfigureLogger()
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("nats-server not ready for connections after 30s")
	}
	n.server = s
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
	newOpts.NoSigs = true
	if err := reload.Options(ctx, n.server, newOpts, n.manager); err != nil {
		return err
	}
	n.mu.Lock()
	n.opts = newOpts
	n.mu.Unlock()
	return nil
}

func (n *node) close() {
	if n.server != nil {
		n.server.Shutdown()
		n.server.WaitForShutdown()
	}
	n.manager.Close()
	n.kv.close()
}

package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os/exec"

	"github.com/nats-autotls/autotls/internal/confpos"
	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// checkConfig is -t. It builds what a run builds from the configuration
// (nats-server's options, the issuers, the shared CA, the Manager) and
// checks that the listeners' TLS can be applied, but opens no storage,
// starts nothing, listens on nothing, orders and writes nothing. Then it
// prints nats-server's line for a valid configuration.
func checkConfig(c *command, stderr io.Writer) error {
	if err := c.af.checkFiles(); err != nil {
		return err
	}
	m, _, err := c.af.manager(tlsmgr.NewMemoryStorage(), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	defer m.Close()
	if c.af.exportDir == "" { // sidecar mode runs no server
		if err := natsopts.Check(c.opts, m); err != nil {
			return confpos.Annotate(err, c.opts.ConfigFile)
		}
	}
	fmt.Fprintf(stderr, "nats-autotls: configuration file %s is valid (%s)\n", c.opts.ConfigFile, c.opts.ConfigDigest())
	return nil
}

// checkFiles checks what a run would only find out later: that the DNS
// hook can be run and that -autotls_kv_url is a URL.
func (f *autoTLSFlags) checkFiles() error {
	if f.dnsHook != "" {
		if _, err := exec.LookPath(f.dnsHook); err != nil {
			return fmt.Errorf("-autotls_dns_hook %s: %w: give the path of an executable program", f.dnsHook, err)
		}
	}
	if f.kvURL != "" {
		if _, err := url.Parse(f.kvURL); err != nil {
			return fmt.Errorf("-autotls_kv_url: %w", err)
		}
	}
	return nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strings"

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
			return confpos.Annotate(operatorFix(err), c.opts.ConfigFile)
		}
	}
	fmt.Fprintf(stderr, "nats-autotls: configuration file %s is valid (%s)\n", c.opts.ConfigFile, c.opts.ConfigDigest())
	return nil
}

// checkFiles checks what a run would only find out later: that the DNS
// hook can be run, that -autotls_kv_url is a URL and that its credentials
// and roots files can be opened.
func (f *autoTLSFlags) checkFiles() error {
	if f.dnsHook != "" {
		if _, err := exec.LookPath(f.dnsHook); err != nil {
			return fmt.Errorf("-autotls_dns_hook %s: %w: give the path of an executable program", f.dnsHook, err)
		}
	}
	if f.kvURL != "" {
		for _, u := range strings.Split(f.kvURL, ",") {
			if _, err := url.Parse(strings.TrimSpace(u)); err != nil {
				// Not err: its text quotes the URL and any password in it.
				return errors.New("-autotls_kv_url: not a URL: write nats://host:4222 (a comma-separated list for a cluster)")
			}
		}
		for _, file := range []struct{ flag, path string }{{"-autotls_kv_creds", f.kvCreds}, {"-autotls_kv_ca", f.kvCA}} {
			if file.path == "" {
				continue
			}
			// Opened, not read: a credentials file holds a secret.
			r, err := os.Open(file.path)
			if err != nil {
				return fmt.Errorf("%s: %w: make the file readable by this user, or fix the path", file.flag, err)
			}
			r.Close()
		}
	}
	return nil
}

// operatorFix rewrites the fixes natsopts words for the Go API into the
// binary's settings: a route or gateway URL that the role's names do not
// cover is fixed with names in the autotls block, not with
// natsopts.PeerNames, which the binary does not expose.
func operatorFix(err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			operatorFix(e)
		}
		return err
	}
	var ce *natsopts.ConfigError
	if errors.As(err, &ce) && strings.Contains(ce.Fix, "PeerNames(false)") {
		role := "cluster"
		if strings.HasPrefix(ce.Listener, "gateway") {
			role = "gateway"
		}
		ce.Fix = fmt.Sprintf("give the %[1]s names that cover every peer's URL, shared by the nodes: autotls { roles { %[1]s { names: [\"*.example.com\"] } } } (the private CA signs them; no dns-01 needed), or -autotls_names with such a wildcard", role)
	}
	return err
}

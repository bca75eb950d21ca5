package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/acme/dnsprovider"
	"github.com/nats-autotls/autotls/internal/config"
	"github.com/nats-autotls/autotls/internal/natsmagic"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// loadConfig reads the autotls configuration from every source over the
// parsed command line: natsmagic's configuration if its variables are set,
// the autotls block of the configuration file, the NATS_AUTOTLS_*
// variables and the flags. It sets c.af from the result (and c.opts from
// natsmagic's nats_config), and c.creds to natsmagic's leafnode
// credentials, which the caller removes on exit. Nothing listens and
// nothing is ordered before it returns.
func (c *command) loadConfig(ctx context.Context, environ []string) error {
	reg := dnsprovider.New()
	in := config.Input{ConfigFile: c.opts.ConfigFile, Environ: environ, Flags: c.flags, Providers: reg}
	if natsmagic.Used(environ) {
		base, err := c.loadNatsmagic(ctx, environ, reg)
		if err != nil {
			return err
		}
		in.Base = base
	}
	in.Options = c.opts
	cfg, err := config.Load(in)
	if err != nil {
		return err
	}
	c.af.apply(cfg)
	c.reloadInput = in
	return nil
}

// loadNatsmagic reads natsmagic's configuration; its nats_config becomes
// the NATS configuration, with the command line's flags over it.
func (c *command) loadNatsmagic(ctx context.Context, environ []string, reg *dnsprovider.Registry) ([]config.Value, error) {
	mc, err := natsmagic.Load(ctx, natsmagic.Input{Environ: environ})
	if err != nil {
		return nil, err
	}
	values, err := mc.Values(reg, environ, os.ReadFile)
	if err != nil {
		return nil, err
	}
	opts, creds, err := mc.NATSOptions("")
	if err != nil {
		return nil, err
	}
	if opts == nil {
		return values, nil
	}
	c.creds = creds
	if c.opts.ConfigFile != "" {
		return nil, errors.New(mc.NATSConfigSource + ": and -c " + c.opts.ConfigFile + " both give the NATS configuration: use one of them")
	}
	checking := c.opts.CheckConfig
	c.opts = server.MergeOptions(opts, c.opts)
	c.opts.CheckConfig = checking
	return values, nil
}

// apply sets the flags' fields from the loaded configuration, the one
// source of truth for everything the node builds.
func (f *autoTLSFlags) apply(cfg *config.Config) {
	f.cfg = cfg
	f.names = strings.Join(cfg.Names, ",")
	f.storage, f.background, f.logJSON, f.statusAddr = cfg.Storage, cfg.Background, cfg.LogJSON, cfg.Status
	f.directory, f.email, f.agreeTOS = cfg.ACME.Directory, cfg.ACME.Email, cfg.ACME.AgreeTOS
	f.profile, f.acmeRoots = cfg.ACME.Profile, cfg.ACME.Roots
	f.http01 = cfg.HTTP01
	if f.http01 == "" {
		f.http01 = ":80"
	}
	f.dnsHook, f.dnsZone, f.resolvers = cfg.DNS.Hook, cfg.DNS.Zone, strings.Join(cfg.DNS.Resolvers, ",")
	f.caCert, f.caKey, f.caTrust, f.bundleOut = cfg.CA.Cert, cfg.CA.Key, cfg.CA.Trust, cfg.CA.BundleOut
	f.kvURL, f.kvCreds, f.kvCA, f.kvBucket = cfg.KV.URL, cfg.KV.Creds, cfg.KV.CA, cfg.KV.Bucket
	f.dnsPersist, f.tlsALPN, f.fallback = cfg.ACME.DNSPersist, cfg.ACME.TLSALPN, cfg.ACME.Fallback
	if f.tlsALPN && f.directory != "" {
		// The CA validates on the listeners: they must listen before the
		// first public certificate arrives.
		f.background = true
	}
}

// logSources logs, at debug level, where each setting came from (never a
// value), so that an operator can see which source won.
func (f *autoTLSFlags) logSources(logger *slog.Logger) {
	if f.cfg == nil || len(f.cfg.Sources) == 0 {
		return
	}
	args := make([]any, 0, 2*len(f.cfg.Sources))
	for _, k := range slices.Sorted(maps.Keys(f.cfg.Sources)) {
		args = append(args, k, f.cfg.Sources[k])
	}
	logger.Debug("nats-autotls: configuration sources", args...)
}

// roleOf maps the configuration's role names to tlsmgr's.
func roleOf(name string) tlsmgr.Role {
	switch name {
	case "leafnode_remote":
		return tlsmgr.RoleLeafnodeRemote
	}
	return tlsmgr.Role(name)
}

// roles returns the per-role names of the configuration.
func (f *autoTLSFlags) roles() map[tlsmgr.Role]tlsmgr.RoleConfig {
	if f.cfg == nil || len(f.cfg.Roles) == 0 {
		return nil
	}
	out := make(map[tlsmgr.Role]tlsmgr.RoleConfig, len(f.cfg.Roles))
	for name, r := range f.cfg.Roles {
		out[roleOf(name)] = tlsmgr.RoleConfig{Names: r.Names, KeyType: tlsmgr.KeyType(r.KeyType)}
	}
	return out
}

// keyType returns the configured key type; zero means tlsmgr's default.
func (f *autoTLSFlags) keyType() tlsmgr.KeyType {
	if f.cfg == nil {
		return ""
	}
	return tlsmgr.KeyType(f.cfg.KeyType)
}

// eab returns the External Account Binding, or nil.
func (f *autoTLSFlags) eab() *acme.ExternalAccountBinding {
	if f.cfg == nil || f.cfg.ACME.EABKeyID == "" {
		return nil
	}
	return &acme.ExternalAccountBinding{KeyID: f.cfg.ACME.EABKeyID, HMACKey: f.cfg.ACME.EABHMACKey}
}

// dnsProvider opens the configured DNS provider, or returns nil.
func (f *autoTLSFlags) dnsProvider() (acme.LegoProvider, error) {
	if f.cfg == nil || f.cfg.DNS.Provider == "" {
		return nil, nil
	}
	p, err := dnsprovider.New().Open(f.cfg.DNS.Provider, f.cfg.DNS.Settings)
	if err != nil {
		return nil, &config.Error{Source: f.cfg.Sources["dns.provider"], Field: "dns.provider", Value: f.cfg.DNS.Provider, Err: err}
	}
	return p, nil
}

// autotlsReload re-reads the autotls configuration on SIGHUP.
type autotlsReload struct {
	cur  *config.Config
	load func(context.Context) (*config.Config, error)
}

// reloader returns what SIGHUP uses to read the configuration's sources
// again: the file, the environment, natsmagic's sources, and the flags.
func (c *command) reloader(environ []string) *autotlsReload {
	in := c.reloadInput
	return &autotlsReload{cur: c.af.cfg, load: func(ctx context.Context) (*config.Config, error) {
		in := in
		if natsmagic.Used(environ) {
			mc, err := natsmagic.Load(ctx, natsmagic.Input{Environ: environ})
			if err != nil {
				return nil, err
			}
			if in.Base, err = mc.Values(in.Providers, environ, os.ReadFile); err != nil {
				return nil, err
			}
		}
		return config.Load(in)
	}}
}

// reload reads the configuration again. A configuration that does not
// load is an error and changes nothing. Settings that the running
// certificate manager cannot take (its names, issuer, storage) are an
// error naming each one and its source, never silently ignored: they take
// effect at the next start. The shared CA's files are re-read by the
// node's own reload.
func (r *autotlsReload) reload(ctx context.Context) error {
	if r == nil {
		return nil
	}
	next, err := r.load(ctx)
	if err != nil {
		return fmt.Errorf("autotls configuration not reloaded: %w", err)
	}
	if changed := changedSettings(r.cur, next); len(changed) > 0 {
		return fmt.Errorf("autotls settings changed since start (%s): the running certificate manager cannot take them: restart nats-autotls to apply them", strings.Join(changed, ", "))
	}
	r.cur = next
	return nil
}

// changedSettings names the settings that differ, each with its new
// source.
func changedSettings(a, b *config.Config) []string {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	var out []string
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if name == "Sources" || reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			continue
		}
		out = append(out, name+" ("+sourceOf(b, name)+")")
	}
	return out
}

// sourceOf names where a Config field's new value came from.
func sourceOf(c *config.Config, field string) string {
	prefix := strings.ToLower(field)
	var srcs []string
	for key, src := range c.Sources {
		if key == prefix || strings.HasPrefix(key, prefix+".") {
			srcs = append(srcs, src)
		}
	}
	if len(srcs) == 0 {
		return "now unset"
	}
	slices.Sort(srcs)
	return strings.Join(slices.Compact(srcs), ", ")
}

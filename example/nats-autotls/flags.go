package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/config"
	"github.com/nats-autotls/autotls/tlsmgr/health"
)

// autoTLSFlags are the reference binary's own flags, next to nats-server's.
type autoTLSFlags struct {
	cliTLS       cliTLS // nats-server's --tls* flags (tlsflags.go)
	names        string
	storage      string
	directory    string
	email        string
	agreeTOS     bool
	profile      string
	http01       string
	caCert       string
	caKey        string
	caTrust      string
	bundleOut    string
	background   bool
	logJSON      bool
	exportDir    string
	reloadPID    string
	confirm      string
	newCA        string
	statusAddr   string
	healthMargin time.Duration
	probe        string
	acmeRoots    string
	dnsHook      string
	dnsZone      string
	resolvers    string
	kvURL        string
	kvCreds      string
	kvCA         string
	kvBucket     string

	dnsPersist     bool     // acme.dns_persist
	tlsALPN        bool     // acme.tls_alpn
	fallback       []string // acme.fallback
	persistRecords bool     // print the dns-persist-01 records and exit

	// cfg is the configuration loaded from every source (see loadConfig);
	// the fields above are set from it. Nil until loaded.
	cfg *config.Config
}

func (f *autoTLSFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.kvURL, "autotls_kv_url", "", "Keep certificates, the ACME account and the private CA in a JetStream key-value bucket on this NATS system (shared by a fleet); -autotls_storage is then this node's local cache, from which it starts and serves while the bucket is unreachable.")
	fs.StringVar(&f.kvCreds, "autotls_kv_creds", "", "Credentials file for -autotls_kv_url.")
	fs.StringVar(&f.kvCA, "autotls_kv_ca", "", "PEM roots to verify -autotls_kv_url's TLS certificate (default: the system roots).")
	fs.StringVar(&f.kvBucket, "autotls_kv_bucket", "", `Bucket for -autotls_kv_url (default "nats_autotls").`)
	fs.StringVar(&f.names, "autotls_names", "", "Comma-separated DNS names and IPs of this server (default: localhost,127.0.0.1,::1).")
	fs.StringVar(&f.storage, "autotls_storage", "", "Directory for certificates, keys, the private CA and the ACME account (default: the user cache directory).")
	fs.StringVar(&f.directory, "autotls_acme", "", `ACME directory URL for the public listeners, or "letsencrypt" / "letsencrypt-staging". Empty: the local private CA signs everything.`)
	fs.StringVar(&f.email, "autotls_email", "", "ACME account contact e-mail.")
	fs.BoolVar(&f.agreeTOS, "autotls_agree_tos", false, "Agree to the ACME CA's terms of service (required with -autotls_acme).")
	fs.StringVar(&f.acmeRoots, "autotls_acme_roots", "", "PEM file of extra roots to trust for the ACME directory's HTTPS (a private ACME CA such as step-ca); default: the system roots.")
	fs.StringVar(&f.profile, "autotls_profile", "", `ACME profile ("classic", "tlsserver", "shortlived"); empty: the CA's default.`)
	fs.StringVar(&f.http01, "autotls_http01", ":80", "Address the http-01 solver listens on while a challenge is pending (unless -autotls_dns_hook is set).")
	fs.StringVar(&f.dnsHook, "autotls_dns_hook", "", `Solve dns-01 (wildcards, no port 80) by running this program as "PROGRAM present|cleanup FQDN VALUE"; it holds its own DNS credentials.`)
	fs.StringVar(&f.dnsZone, "autotls_dns_zone", "", "Zone the dns-01 records go in (default: found by an SOA lookup).")
	fs.StringVar(&f.resolvers, "autotls_dns_resolvers", "", "Comma-separated resolvers (host:port) that dns-01 checks propagation on, instead of the zone's authoritative servers.")
	fs.StringVar(&f.caCert, "autotls_ca_cert", "", "PEM file of a private CA certificate shared by the nodes of a cluster (with -autotls_ca_key).")
	fs.StringVar(&f.caKey, "autotls_ca_key", "", "PEM file of the private CA's key.")
	fs.StringVar(&f.caTrust, "autotls_ca_trust", "", "PEM file of further CA certificates to trust next to -autotls_ca_cert while a cluster rotates its CA; SIGHUP re-reads the three files.")
	fs.StringVar(&f.bundleOut, "autotls_ca_bundle_out", "", "Write the private CA trust bundle (for clients and peers) to this file (default: <storage>/ca-bundle.pem).")
	fs.BoolVar(&f.background, "autotls_background", false, "Start serving with the certificates at hand and obtain missing ones in the background.")
	fs.BoolVar(&f.logJSON, "autotls_log_json", false, "Write the log (nats-server's lines and the certificate manager's) as one JSON object per line, with the keys time, level and msg, instead of nats-server's text format.")
	fs.BoolVar(&f.persistRecords, "autotls_persist_records", false, "Print the dns-persist-01 TXT records to publish, once, for the names (registering the ACME account in the storage first if needed) and exit; then run with -autotls_dns_persist.")
	fs.StringVar(&f.newCA, "autotls_new_ca", "", "Generate a private CA for a cluster into PREFIX.pem and PREFIX.key (0600) and exit; existing files are never overwritten.")
	fs.StringVar(&f.statusAddr, "autotls_status", "", "Serve a status port at ADDR: /status (the certificates' names, issuer, expiry, next renewal, last error, as JSON), /metrics (Prometheus), /healthz and /readyz.")
	fs.DurationVar(&f.healthMargin, "autotls_health_margin", health.DefaultMargin, "/healthz answers 503 when a listener's certificate expires within this margin.")
	fs.StringVar(&f.probe, "autotls_probe", "", "Health probe for images without curl: GET this URL (such as http://127.0.0.1:9090/healthz), exit 0 on 200 and 1 otherwise.")
	fs.StringVar(&f.exportDir, "autotls_export", "", "Sidecar mode: run no server; keep PEM files for an external nats-server in this directory (<role>.crt, <role>.key, ca.pem).")
	fs.StringVar(&f.reloadPID, "autotls_reload_pid", "", "Sidecar mode: the external nats-server's pid or pid file, sent SIGHUP after each export.")
	fs.StringVar(&f.confirm, "autotls_confirm", "", "Sidecar mode: host:port of the external server's client TLS port, probed until it serves the new certificate.")
}

func (f *autoTLSFlags) nameList() []string { return splitList(f.names) }

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string { return config.SplitList(s) }

// solvers returns the challenge solvers the configuration asks for:
// dns-01 through the named provider or the hook if one is given, else
// http-01.
func (f *autoTLSFlags) solvers() (*acme.DNS01, *acme.HTTP01, error) {
	provider, err := f.dnsProvider()
	if err != nil {
		return nil, nil, err
	}
	if f.dnsHook == "" && provider == nil {
		if f.tlsALPN {
			return nil, nil, nil // answered on the listeners: see acmeConfig
		}
		return nil, &acme.HTTP01{Addr: f.http01}, nil
	}
	resolvers := splitList(f.resolvers)
	d := &acme.DNS01{
		Lego:                   provider,
		Resolvers:              resolvers,
		SkipAuthoritativeCheck: len(resolvers) > 0,
	}
	if provider == nil {
		d.Provider, d.Zone = dnsHook{path: f.dnsHook}, f.dnsZone
	}
	if f.cfg != nil {
		d.PropagationTimeout, d.PollingInterval = f.cfg.DNS.PropagationTimeout, f.cfg.DNS.PollingInterval
	}
	return d, nil, nil
}

// expandDirectory expands the names of well-known ACME directories.
func expandDirectory(dir string) string {
	switch dir {
	case "letsencrypt":
		return acme.LetsEncrypt
	case "letsencrypt-staging":
		return acme.LetsEncryptStaging
	}
	return dir
}

func (f *autoTLSFlags) check() error {
	if (f.caCert == "") != (f.caKey == "") {
		return errors.New("-autotls_ca_cert and -autotls_ca_key go together: give both files or neither")
	}
	if f.caTrust != "" && f.caCert == "" {
		return errors.New("-autotls_ca_trust needs -autotls_ca_cert and -autotls_ca_key: it adds to a shared CA")
	}
	if f.exportDir != "" && (f.reloadPID == "" || f.confirm == "") {
		return errors.New("-autotls_export needs -autotls_reload_pid and -autotls_confirm: the sidecar signals the server and confirms that it reloaded")
	}
	if f.healthMargin < 0 {
		return fmt.Errorf("-autotls_health_margin %s: must not be negative: give how long before expiry /healthz turns 503, such as 24h", f.healthMargin)
	}
	if f.directory != "" && !f.agreeTOS {
		return fmt.Errorf("-autotls_acme %q needs -autotls_agree_tos: read the CA's terms of service, then agree to them", f.directory)
	}
	return nil
}

// directoryRoots returns the -autotls_acme_roots pool, or nil for the
// system roots.
func (f *autoTLSFlags) directoryRoots() (*x509.CertPool, error) {
	if f.acmeRoots == "" {
		return nil, nil
	}
	b, err := readPEM("autotls_acme_roots", f.acmeRoots)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("-autotls_acme_roots %s: no PEM certificate in it: give the CA's root certificate in PEM", f.acmeRoots)
	}
	return pool, nil
}

func readPEM(flagName, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-%s: %w", flagName, err)
	}
	return b, nil
}

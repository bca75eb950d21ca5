package config

import "time"

// Config is the reference binary's whole autotls configuration, from every
// source, after defaults, validation and secret files. Every field
// documents its zero value.
type Config struct {
	// Names are the DNS names, wildcards and IPs of the server. Empty means
	// the names derived from the listeners (see [Load]), or, if there are
	// none, development mode (localhost and the loopback addresses).
	Names []string

	// Storage is the directory for certificates, keys, the private CA and
	// the ACME account. Empty means the user cache directory.
	Storage string

	// KeyType is the key algorithm of new certificates: p256, p384,
	// rsa2048, rsa3072, rsa4096 or ed25519. Empty means p256.
	KeyType string

	// Background starts serving before missing certificates are obtained.
	Background bool

	// LogJSON writes the log as one JSON object per line instead of
	// nats-server's text format.
	LogJSON bool

	// Status is the address of the JSON status endpoint. Empty means none.
	Status string

	// ACME configures the ACME CA of the public roles. A zero Directory
	// means none: the private CA signs everything.
	ACME ACME

	// HTTP01 is the address the http-01 solver listens on while a challenge
	// is pending. Empty means ":80". Unused when DNS is set.
	HTTP01 string

	// DNS configures dns-01. A zero value means http-01 is used.
	DNS DNS

	// CA names the files of a private CA shared by a cluster. Zero means a
	// CA kept in Storage.
	CA CA

	// KV keeps the storage in a JetStream key-value bucket. A zero URL
	// means Storage is used.
	KV KV

	// Roles holds per-role overrides, by role name (client, websocket,
	// mqtt, leafnode, cluster, gateway, leafnode_remote). Nil means none.
	Roles map[string]Role

	// Sources says where each setting that is not a default came from, by
	// setting key ("acme.email": "nats.conf:12", "NATS_AUTOTLS_ACME_EMAIL",
	// "-autotls_email", or "derived from client_advertise").
	Sources map[string]string
}

// ACME configures an ACME CA.
type ACME struct {
	// Directory is the directory URL ("letsencrypt" and
	// "letsencrypt-staging" are expanded). Empty means no ACME CA.
	Directory string
	// Email is the account contact. Empty means none.
	Email string
	// AgreeTOS agrees to the CA's terms; required with Directory.
	AgreeTOS bool
	// Profile is the ACME profile. Empty means the CA's default.
	Profile string
	// Roots is a PEM file of roots trusted for the directory's HTTPS.
	// Empty means the system roots.
	Roots string
	// EABKeyID and EABHMACKey are the External Account Binding. Empty
	// means none. EABHMACKey is a secret.
	EABKeyID, EABHMACKey string
	// DNSPersist proves DNS names with dns-persist-01: one TXT record per
	// name, published once. False means off.
	DNSPersist bool
	// TLSALPN answers tls-alpn-01 on the managed listeners (the CA
	// connects to port 443) instead of http-01. False means off.
	TLSALPN bool
	// Fallback are further directory URLs tried in order when an order
	// from Directory fails. Nil means none.
	Fallback []string
}

// DNS configures the dns-01 challenge: at most one of Provider and Hook.
type DNS struct {
	// Provider is a DNS provider's name (see acme/dnsprovider). Empty
	// means none.
	Provider string
	// Settings are the provider's settings, by key, secrets included.
	// Nil means none.
	Settings map[string]string
	// Hook is a program run as "HOOK present|cleanup FQDN VALUE". Empty
	// means none.
	Hook string
	// Zone is the zone records go in, for Hook. Empty means an SOA lookup.
	Zone string
	// Resolvers are the resolvers propagation is checked on. Empty means
	// the zone's authoritative servers.
	Resolvers []string
	// PropagationTimeout and PollingInterval bound the propagation check.
	// Zero means the provider's defaults.
	PropagationTimeout, PollingInterval time.Duration
}

// Enabled reports whether dns-01 is configured.
func (d DNS) Enabled() bool { return d.Provider != "" || d.Hook != "" }

// CA names the files of a shared private CA.
type CA struct {
	// Cert and Key are PEM files, both or neither. Trust adds CA
	// certificates during a rotation. BundleOut is where the trust bundle
	// is written; empty means <storage>/ca-bundle.pem.
	Cert, Key, Trust, BundleOut string
}

// KV configures a JetStream key-value storage.
type KV struct {
	// URL of the NATS system; Creds, CA files; Bucket name (empty:
	// "nats_autotls").
	URL, Creds, CA, Bucket string
}

// Role overrides one role's defaults.
type Role struct {
	// Names replaces Config.Names for the role. Nil means Config.Names.
	Names []string
	// KeyType replaces Config.KeyType for the role. Empty means
	// Config.KeyType.
	KeyType string
}

// roleNames are the role names accepted in the roles block.
func roleNames() []string {
	return []string{"client", "websocket", "mqtt", "leafnode", "cluster", "gateway", "leafnode_remote"}
}

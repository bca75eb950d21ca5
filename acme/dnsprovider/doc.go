// Package dnsprovider opens lego's DNS providers by name, for the dns-01
// challenge of package acme, without lego types in its API and without
// touching the process environment.
//
// # Opening a provider
//
// A [Registry] maps names to providers. [New] returns the registry the
// binary was built with; [Registry.Open] fills the provider's typed lego
// configuration from [Settings] and returns an [acme.LegoProvider] for
// [acme.DNS01].Lego:
//
//	p, err := dnsprovider.New().Open("cloudflare", dnsprovider.Settings{"api_token": token})
//	if err != nil { ... } // names the provider, the setting and where to set it
//	iss, err := acme.New(acme.Config{..., DNS01: &acme.DNS01{Lego: p}})
//
// Credentials are passed to the provider directly: they are never placed
// in the process environment and never appear in an error.
//
// # Providers
//
// Every build compiles a curated set that covers most users: cloudflare,
// route53, digitalocean, azuredns, gcloud, hetzner, ovh, gandiv5,
// namecheap, rfc2136, exec and httpreq. [Provider.Fields] lists each one's
// settings with lego's environment variable for it ([Field.Env]); this
// package never reads the environment, but a caller that does (the
// reference binary) uses those names and their _FILE forms.
//
// Built with the autotls_alldns tag (go build -tags autotls_alldns), the
// registry also opens every other provider of lego's registry by name
// ([Registry.All]). Those take their settings from lego's documented
// environment variables (and _FILE forms) only, as lego documents; settings
// given in Settings are refused for them rather than ignored. The tag adds
// about 200 modules and a much larger binary, so it is off by default.
//
// # Process-wide state
//
// lego's NewDefaultConfig functions read a provider's non-secret tunables
// (TTL, propagation timeout, polling interval) from its environment
// variables; the propagation timeout and polling interval of
// [acme.DNS01] take precedence over them. Providers that can hold only one
// TXT record per name (rfc2136, exec) solve the authorizations of an order
// one after the other, pausing sequence_interval between them.
//
// # Concurrency
//
// A Registry is immutable and safe for concurrent use.
package dnsprovider

package dnsprovider

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nats-autotls/autotls/acme"
)

// Settings are a provider's settings, keyed by [Field.Key] ("api_token").
type Settings map[string]string

// Field describes one setting of a provider.
type Field struct {
	// Key is the setting's name in Settings and in configuration files,
	// lower snake case ("api_token").
	Key string

	// Env is lego's documented environment variable for the setting
	// ("CLOUDFLARE_DNS_API_TOKEN"). A caller that reads the environment may
	// use it, and Env+"_FILE" for a file holding the value; this package
	// never reads the environment itself.
	Env string

	// Secret marks a credential: its value never appears in an error.
	Secret bool

	// Required means Open fails without it. Providers that accept one of
	// several credentials check that in Open and name the alternatives.
	Required bool

	// Doc says what the setting is, in a few words.
	Doc string
}

// Provider describes one DNS provider of a [Registry].
type Provider struct {
	// Name is the provider's name, as lego names it ("cloudflare").
	Name string

	// Fields are the provider's settings. Nil for a provider that takes
	// its settings from lego's environment variables only (the whole
	// registry, built with the autotls_alldns tag).
	Fields []Field

	open func(Settings) (acme.LegoProvider, error)
	// validate checks what open checks before it builds lego's config;
	// nil means nothing more than the fields.
	validate func(Settings) error
}

// Field returns the field with the given key.
func (p Provider) Field(key string) (Field, bool) {
	for _, f := range p.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Registry is a set of DNS providers by name. It is immutable and safe for
// concurrent use; build it with [New].
type Registry struct {
	providers map[string]Provider
	// envOnly opens a lego provider from lego's environment variables by
	// name; nil unless built with the autotls_alldns tag.
	envOnly func(name string) (acme.LegoProvider, error)
}

// New returns the registry this binary was built with: the curated
// providers (see the package documentation) and, when built with the
// autotls_alldns tag, every provider of lego's registry.
func New() *Registry {
	r := &Registry{providers: make(map[string]Provider), envOnly: legoRegistry()}
	for _, p := range curated() {
		r.providers[p.Name] = p
	}
	return r
}

// All reports whether the registry holds lego's whole registry (the binary
// was built with the autotls_alldns tag).
func (r *Registry) All() bool { return r.envOnly != nil }

// Names returns the names of the curated providers, sorted. With
// [Registry.All], every lego provider name is accepted too.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.providers))
	for n := range r.providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the curated provider called name.
func (r *Registry) Lookup(name string) (Provider, bool) {
	p, ok := r.providers[strings.ToLower(name)]
	return p, ok
}

// Open returns the provider called name configured with settings, ready to
// be used as [acme.DNS01].Lego. The settings are passed to lego's typed
// configuration of the provider directly, never through the process
// environment. Errors are a *[UnknownProviderError], *[UnknownFieldError],
// *[MissingFieldError] or *[InvalidFieldError], or lego's own.
//
// Open makes no network request, except that lego's namecheap provider
// looks up the public IP address when client_ip is not set, azuredns lists
// the subscription's zones, and gcloud without a service_account asks for
// Application Default Credentials.
func (r *Registry) Open(name string, settings Settings) (acme.LegoProvider, error) {
	p, ok := r.Lookup(name)
	if !ok {
		if r.envOnly == nil {
			return nil, &UnknownProviderError{Name: name, Known: r.Names()}
		}
		if len(settings) > 0 {
			return nil, &UnknownFieldError{Provider: name, Field: firstKey(settings), EnvOnly: true}
		}
		lp, err := r.envOnly(strings.ToLower(name))
		if err != nil {
			return nil, fmt.Errorf("dnsprovider: %s: %w", name, err)
		}
		return lp, nil
	}
	if err := r.Check(name, settings); err != nil {
		return nil, err
	}
	lp, err := p.open(settings)
	if err != nil {
		return nil, err
	}
	return lp, nil
}

// Check reports what [Registry.Open] would refuse in settings (an
// unknown provider, an unknown or missing setting, an invalid value)
// without opening the provider: no network, no files.
func (r *Registry) Check(name string, settings Settings) error {
	p, ok := r.Lookup(name)
	if !ok {
		if r.envOnly == nil {
			return &UnknownProviderError{Name: name, Known: r.Names()}
		}
		if len(settings) > 0 {
			return &UnknownFieldError{Provider: name, Field: firstKey(settings), EnvOnly: true}
		}
		return nil
	}
	if err := p.check(settings); err != nil {
		return err
	}
	if p.validate != nil {
		return p.validate(settings)
	}
	return nil
}

// check refuses unknown keys and missing required fields.
func (p Provider) check(s Settings) error {
	for _, k := range sortedKeys(s) {
		if _, ok := p.Field(k); !ok {
			return &UnknownFieldError{Provider: p.Name, Field: k, Known: p.keys()}
		}
	}
	for _, f := range p.Fields {
		if f.Required && s[f.Key] == "" {
			return &MissingFieldError{Provider: p.Name, Field: f}
		}
	}
	return nil
}

func (p Provider) keys() []string {
	out := make([]string, len(p.Fields))
	for i, f := range p.Fields {
		out[i] = f.Key
	}
	return out
}

func sortedKeys(s Settings) []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func firstKey(s Settings) string { return sortedKeys(s)[0] }

// wrap converts a lego constructor's result to our interface without
// turning a nil pointer into a non-nil interface.
func wrap[P acme.LegoProvider](p P, err error) (acme.LegoProvider, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

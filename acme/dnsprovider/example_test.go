package dnsprovider_test

import (
	"errors"
	"fmt"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/acme/dnsprovider"
)

// Open a provider by name and hand it to the ACME issuer's dns-01 solver.
func ExampleRegistry_Open() {
	p, err := dnsprovider.New().Open("rfc2136", dnsprovider.Settings{
		"nameserver":     "192.0.2.53:53",
		"tsig_key":       "acme-update.",
		"tsig_secret":    "c2VjcmV0",
		"tsig_algorithm": "hmac-sha256.",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	dns01 := &acme.DNS01{Lego: p}
	fmt.Println(dns01.Lego != nil)
	// Output: true
}

// A missing credential names the setting and the variables that can hold
// it.
func ExampleMissingFieldError() {
	_, err := dnsprovider.New().Open("digitalocean", nil)
	var missing *dnsprovider.MissingFieldError
	fmt.Println(errors.As(err, &missing), missing.Field.Key)
	fmt.Println(err)
	// Output:
	// true auth_token
	// dnsprovider: digitalocean: missing auth_token: set "auth_token" in the provider's settings or DO_AUTH_TOKEN (or DO_AUTH_TOKEN_FILE)
}

// The settings a provider takes, with lego's variable for each.
func ExampleProvider_Field() {
	p, _ := dnsprovider.New().Lookup("httpreq")
	for _, f := range p.Fields {
		fmt.Println(f.Key, f.Env, f.Secret)
	}
	// Output:
	// endpoint HTTPREQ_ENDPOINT false
	// mode HTTPREQ_MODE false
	// username HTTPREQ_USERNAME false
	// password HTTPREQ_PASSWORD true
}

package natsmagic_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-autotls/autotls/acme/dnsprovider"
	"github.com/nats-autotls/autotls/internal/config"
	"github.com/nats-autotls/autotls/internal/natsmagic"
)

// natsmagic's environment-only setup, read as the binary's configuration.
func ExampleLoad() {
	env := []string{
		"NATS_MAGIC_DOMAINS=nats.example.com",
		"NATS_MAGIC_EMAIL=admin@example.com",
		"NATS_MAGIC_PROVIDER=digitalocean",
		"DO_AUTH_TOKEN=token",
	}
	mc, err := natsmagic.Load(context.Background(), natsmagic.Input{Environ: env})
	if err != nil {
		fmt.Println(err)
		return
	}
	values, err := mc.Values(dnsprovider.New(), env, os.ReadFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := config.Load(config.Input{Base: values, Environ: env})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Names, cfg.ACME.Directory, cfg.DNS.Provider)
	// Output: [nats.example.com] letsencrypt digitalocean
}

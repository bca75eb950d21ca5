package config_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-autotls/autotls/internal/config"
)

// Load the autotls block of nats.conf, with the environment over it.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "nats.conf")
	_ = os.WriteFile(conf, []byte(`
port: 4222
autotls {
  names: [nats.example.com]
  acme { directory: letsencrypt, agree_tos: true, email: ops@example.com }
}
`), 0o600)
	cfg, err := config.Load(config.Input{
		ConfigFile: conf,
		Environ:    []string{"NATS_AUTOTLS_ACME_EMAIL=oncall@example.com"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Names, cfg.ACME.Directory, cfg.ACME.Email)
	fmt.Println(cfg.Sources["acme.email"])
	// Output:
	// [nats.example.com] letsencrypt oncall@example.com
	// env NATS_AUTOTLS_ACME_EMAIL
}

// An error names the source, the setting, the value and the fix.
func ExampleError() {
	_, err := config.Load(config.Input{Environ: []string{"NATS_AUTOTLS_BACKGROUND=maybe"}})
	fmt.Println(err)
	// Output: env NATS_AUTOTLS_BACKGROUND: autotls.background: "maybe": not true or false: give true or false
}

package reload_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// An Exporter writes certificate files that a nats-server config names by
// stable paths; each export is one atomic swap of a version directory.
func ExampleExporter() {
	ctx := context.Background()
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()}) // development mode
	if err != nil {
		panic(err)
	}
	if err := m.Start(ctx); err != nil {
		panic(err)
	}
	defer m.Close()

	dir, err := os.MkdirTemp("", "certs-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	e := &reload.Exporter{Manager: m, Dir: dir, Roles: []tlsmgr.Role{tlsmgr.RoleClient}}
	changed, err := e.Export(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("exported:", changed)
	for _, p := range []string{e.CertFile(tlsmgr.RoleClient), e.KeyFile(tlsmgr.RoleClient), e.CAFile()} {
		target, _ := os.Readlink(p)
		fi, _ := os.Stat(p)
		fmt.Println(filepath.Base(p), "->", target, fi.Mode().Perm())
	}
	changed, _ = e.Export(ctx)
	fmt.Println("exported again:", changed)
	// Output:
	// exported: true
	// client.crt -> current/client.crt -rw-r--r--
	// client.key -> current/client.key -rw-------
	// ca.pem -> current/ca.pem -rw-r--r--
	// exported again: false
}

// A Sidecar keeps an external nats-server's files current. Its config
// file holds:
//
//	tls {
//	  cert_file: "/etc/nats/certs/client.crt"
//	  key_file:  "/etc/nats/certs/client.key"
//	}
func ExampleSidecar() {
	run := func(ctx context.Context, m *tlsmgr.Manager) error {
		sc := &reload.Sidecar{
			Exporter:    reload.Exporter{Manager: m, Dir: "/etc/nats/certs", Roles: []tlsmgr.Role{tlsmgr.RoleClient}},
			PIDFile:     "/var/run/nats/nats.pid",
			ConfirmAddr: "127.0.0.1:4222",
			Logger:      slog.Default(),
			OnSync: func(err error) {
				if err != nil {
					slog.Error("nats-server did not reload its certificate", "error", err)
				}
			},
		}
		return sc.Run(ctx) // returns when ctx ends
	}
	_ = run
}

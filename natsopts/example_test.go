package natsopts_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Apply puts an embedded server on the Manager's certificates; a client
// that trusts the private CA (development mode) verifies it.
func ExampleApply() {
	ctx := context.Background()
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()}) // development mode: private CA, localhost
	if err != nil {
		panic(err)
	}
	if err := m.Start(ctx); err != nil {
		panic(err)
	}
	defer m.Close()

	opts := &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true} // NoSigs: signals belong to main
	if err := natsopts.Apply(opts, m); err != nil {
		panic(err)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		panic(err)
	}
	s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(5 * time.Second) {
		panic("not ready")
	}

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(m.TrustBundlePEM())
	nc, err := nats.Connect(fmt.Sprintf("tls://localhost:%d", opts.Port), nats.Secure(&tls.Config{RootCAs: roots}))
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	cs, _ := nc.TLSConnectionState()
	fmt.Println("verified:", cs.PeerCertificates[0].DNSNames)
	// Output: verified: [localhost]
}

// Check explains what would break before a server starts.
func ExampleCheck() {
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	defer m.Close()

	opts := &server.Options{NoSigs: true}
	opts.Cluster.Name, opts.Cluster.Port = "east", 6222
	opts.Routes = server.RoutesFromStr("nats://nats-1.east.internal:6222")

	var ce *natsopts.ConfigError
	if errors.As(natsopts.Check(opts, m), &ce) {
		fmt.Println(ce.Listener, ce.Option, ce.Value)
	}
	// Output: cluster Routes[0] nats://nats-1.east.internal:6222
}

package autotls_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Embed a NATS server on managed TLS: a Manager (here in development mode,
// certificates from a local private CA) and natsopts.Apply.
func Example() {
	dir, err := os.MkdirTemp("", "autotls-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewFileStorage(dir)})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	opts := &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true}
	if err := natsopts.Apply(opts, m); err != nil {
		log.Fatal(err)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		log.Fatal(err)
	}
	s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(10 * time.Second) {
		log.Fatal("server not ready")
	}

	// A client that trusts the private CA's bundle.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(m.TrustBundlePEM())
	nc, err := nats.Connect(s.ClientURL(), nats.Secure(&tls.Config{RootCAs: roots, ServerName: "localhost"}))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync("greeting")
	_ = nc.Publish("greeting", []byte("hello over managed TLS"))
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg.Data))
	// Output: hello over managed TLS
}

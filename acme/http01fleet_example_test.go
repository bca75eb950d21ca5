package acme_test

import (
	"net/http"
	"time"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// A fleet behind one load balancer validates http-01 whichever node the
// CA reaches: the ordering node writes the token to the shared storage,
// and every node answers from it on port 80.
func ExampleHTTP01Responder() {
	var shared tlsmgr.Storage = tlsmgr.NewFileStorage("/shared/nats-autotls") // or a kvstorage bucket
	_, _ = acme.New(acme.Config{
		AgreeTOS: true,
		Storage:  shared,
		HTTP01:   &acme.HTTP01{Storage: shared},
	})
	srv := &http.Server{Addr: ":80", Handler: acme.HTTP01Responder(shared, nil), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ListenAndServe() }()
	defer srv.Close()
}

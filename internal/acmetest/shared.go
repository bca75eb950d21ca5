package acmetest

import (
	"sync"

	"github.com/nats-autotls/autotls/internal/dnstest"
)

// shared is the one DNS server of the test binary. It is the only
// package-level state here, and exists because lego keeps its recursive
// nameservers and DNS timeout in package variables
// (dns01.AddRecursiveNameservers, dns01.AddDNSTimeout): every lego client
// of a process uses the same resolver, so every CA of a process must be
// validated against the same DNS server.
var shared struct {
	once sync.Once
	srv  *dnstest.Server
	err  error
}

// SharedDNS returns the DNS server shared by every CA of the test binary,
// starting it on first use. It is never closed: it lives as long as the
// process (two goroutines). Use unique names per test: records written by
// one test are visible to the others.
func SharedDNS() (*dnstest.Server, error) {
	shared.once.Do(func() {
		shared.srv, shared.err = dnstest.Start(defaultZones...)
	})
	return shared.srv, shared.err
}

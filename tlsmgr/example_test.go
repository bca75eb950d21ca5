package tlsmgr_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Development mode: with no issuer, a private CA (kept in the storage)
// signs every role's certificate for localhost and the loopback addresses.
func Example() {
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		log.Fatal(err)
	}

	// Serve the client role; a client trusting the private CA connects.
	serverCfg, err := m.TLSConfig(tlsmgr.RoleClient)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(m.TrustBundlePEM())
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	fmt.Println("names:", m.Names(tlsmgr.RoleClient))
	fmt.Println("served:", leaf.DNSNames, leaf.IPAddresses)
	fmt.Println("certificates:", len(m.Status()))
	// Output:
	// names: [127.0.0.1 ::1 localhost]
	// served: [localhost] [127.0.0.1 ::1]
	// certificates: 1
}

// Roles that share issuer, names and key type share a certificate; the
// cluster role can get its own names.
func ExampleManager_Status() {
	m, err := tlsmgr.New(tlsmgr.Config{
		Names:   []string{"nats.example.com"},
		Storage: tlsmgr.NewMemoryStorage(),
		Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{
			tlsmgr.RoleCluster: {Names: []string{"n1.cluster.internal", "10.0.0.1"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, st := range m.Status() {
		fmt.Println(st.Roles, st.Names, st.RenewalReason)
	}
	// Output:
	// [client websocket mqtt leafnode leafnode-remote gateway] [nats.example.com] half-life
	// [cluster] [10.0.0.1 n1.cluster.internal] half-life
}

// Fall back to a second CA when the first is down or rate-limits: each
// order tries the issuers in turn, and the next renewal starts again from
// the first.
func ExampleNewFallback() {
	var letsEncrypt, zeroSSL tlsmgr.Issuer // e.g. two *acme.Issuer
	m, err := tlsmgr.New(tlsmgr.Config{
		Names:   []string{"nats.example.com"},
		Issuers: []tlsmgr.Issuer{letsEncrypt, zeroSSL},
	})
	_, _ = m, err
}

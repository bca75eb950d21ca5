package privateca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"

	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// A zero Config gives a fresh development CA; its leaves serve localhost and
// also authenticate the server as a client (cluster routes).
func Example() {
	ca, err := privateca.New(privateca.Config{})
	if err != nil {
		panic(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	chain, err := ca.Issue(context.Background(), key, []string{"localhost", "127.0.0.1", "::1"}, nil)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		panic(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots:     ca.Roots(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	})
	fmt.Println("verifies:", err == nil)
	fmt.Println("names:", leaf.DNSNames, leaf.IPAddresses)
	fmt.Println("issuer:", leaf.Issuer.CommonName)
	fmt.Println("lifetime:", leaf.NotAfter.Sub(leaf.NotBefore))
	// Output:
	// verifies: true
	// names: [localhost] [127.0.0.1 ::1]
	// issuer: nats-autotls private CA
	// lifetime: 168h1m0s
}

// Rotating keeps the old CA trusted until it is explicitly untrusted, so
// leaves from both CAs verify while nodes renew.
func ExampleCA_Rotate() {
	oldCert, oldKey, err := privateca.Generate("CA 2026", 0)
	if err != nil {
		panic(err)
	}
	ca, err := privateca.New(privateca.Config{CertPEM: oldCert, KeyPEM: oldKey})
	if err != nil {
		panic(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	oldChain, err := ca.Issue(context.Background(), key, []string{"nats-1.internal"}, nil)
	if err != nil {
		panic(err)
	}
	oldLeaf, err := x509.ParseCertificate(oldChain[0])
	if err != nil {
		panic(err)
	}
	previous := ca.Certificate()

	newCert, newKey, err := privateca.Generate("CA 2027", 0)
	if err != nil {
		panic(err)
	}
	if err := ca.Rotate(newCert, newKey); err != nil {
		panic(err)
	}
	verifies := func() bool {
		_, err := oldLeaf.Verify(x509.VerifyOptions{Roots: ca.Roots(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		return err == nil
	}
	fmt.Println("signing CA:", ca.Certificate().Subject.CommonName)
	fmt.Println("old leaf verifies after Rotate:", verifies())

	if err := ca.Untrust(previous); err != nil {
		panic(err)
	}
	fmt.Println("old leaf verifies after Untrust:", verifies())
	// Output:
	// signing CA: CA 2027
	// old leaf verifies after Rotate: true
	// old leaf verifies after Untrust: false
}

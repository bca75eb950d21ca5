package privateca_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// TestConcurrentIssueAndRotate: leaves issued while the CA rotates back and
// forth always chain to the CA they name and verify against Roots (both
// CAs stay trusted). Run with -race.
func TestConcurrentIssueAndRotate(t *testing.T) {
	aPEM, aKey := gen(t, "A", 0)
	bPEM, bKey := gen(t, "B", 0)
	ca := newCA(t, privateca.Config{CertPEM: aPEM, KeyPEM: aKey, Trust: [][]byte{bPEM}})
	key := keyOf(t, certutil.P256)

	const issuers, perIssuer = 4, 20
	var wg sync.WaitGroup
	errs := make(chan error, issuers*perIssuer+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range perIssuer {
			cert, k := aPEM, aKey
			if i%2 == 0 {
				cert, k = bPEM, bKey
			}
			if err := ca.Rotate(cert, k); err != nil {
				errs <- err
			}
		}
	}()
	for range issuers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perIssuer {
				errs <- issueAndVerify(ca, key)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func issueAndVerify(ca *privateca.CA, key crypto.Signer) error {
	chain, err := ca.Issue(context.Background(), key, []string{"localhost"}, nil)
	if err != nil {
		return err
	}
	certs, err := certutil.ParseChain(chain)
	if err != nil {
		return err
	}
	if err := verify(certs[0], ca.Roots(), x509.ExtKeyUsageClientAuth, time.Now()); err != nil {
		return err
	}
	return certs[0].CheckSignatureFrom(certs[1])
}

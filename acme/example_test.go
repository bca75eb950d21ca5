package acme_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/libdns/libdns"

	"github.com/nats-autotls/autotls/acme"
)

// zoneProvider stands for any libdns provider (Cloudflare, Route 53, ...).
type zoneProvider interface {
	libdns.RecordAppender
	libdns.RecordDeleter
}

// Obtain a certificate for a name and its wildcard over DNS-01 and write it
// where nats-server's cert_file and key_file point.
func Example() {
	var provider zoneProvider // e.g. &cloudflare.Provider{APIToken: "..."}

	iss, err := acme.New(acme.Config{
		DirectoryURL: acme.LetsEncryptStaging,
		Email:        "ops@example.com",
		AgreeTOS:     true,
		Storage:      acme.DirStorage("/var/lib/nats-autotls"),
		DNS01:        &acme.DNS01{Provider: provider},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cert, err := iss.Obtain(ctx, []string{"nats.example.com", "*.nats.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	keyPEM, err := cert.KeyPEM()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("server.pem", cert.CertPEM(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("server-key.pem", keyPEM, 0o600); err != nil {
		log.Fatal(err)
	}
	fmt.Println("valid until", cert.Leaf.NotAfter)
}

// Renew with ARI: ask the CA when, then order with replaces.
func ExampleIssuer_RenewalWindow() {
	var iss *acme.Issuer     // from acme.New
	var old acme.Certificate // the certificate in service
	ctx := context.Background()

	start, end, retry, err := iss.RenewalWindow(ctx, old.Leaf)
	switch {
	case err != nil:
		log.Print(err) // fall back to renewing at 2/3 of the lifetime
	case start.IsZero():
		// no advice
	case time.Now().After(start):
		chain, err := iss.Issue(ctx, old.Key, old.Leaf.DNSNames, old.Leaf)
		fmt.Println(len(chain), err)
	default:
		fmt.Println("renew between", start, "and", end, "; ask again in", retry)
	}
}

// Renew with no DNS credentials anywhere: print the dns-persist-01 records
// once, publish them by hand, and every later order writes nothing to DNS.
func ExampleIssuer_PersistRecords() {
	iss, err := acme.New(acme.Config{
		DirectoryURL: acme.LetsEncryptStaging,
		Email:        "ops@example.com",
		AgreeTOS:     true,
		Storage:      acme.DirStorage("/var/lib/nats-autotls"), // the account the records name
		DNSPersist01: &acme.DNSPersist01{},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recs, err := iss.PersistRecords(ctx, []string{"nats.example.com", "*.nats.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Println(r) // _validation-persist.nats.example.com. 3600 IN TXT "letsencrypt.org; accounturi=...; policy=wildcard"
	}
}

// A failed order says when the CA allows the next attempt: a 429's or a
// 503's Retry-After, clamped to MaxRetryAfter. tlsmgr reads it through
// the RetryAt method; a caller of its own does the same.
func ExampleUnreachableError() {
	var provider zoneProvider // e.g. &cloudflare.Provider{APIToken: "..."}

	iss, err := acme.New(acme.Config{
		AgreeTOS:     true,
		DNS01:        &acme.DNS01{Provider: provider},
		OrderTimeout: 5 * time.Minute, // every request, DNS call and poll gets a share
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = iss.Obtain(context.Background(), []string{"nats.example.com"})
	var retry interface{ RetryAt() time.Time }
	var timeout *acme.TimeoutError
	switch {
	case errors.As(err, &retry) && !retry.RetryAt().IsZero():
		fmt.Println("the CA asks to wait until", retry.RetryAt())
	case errors.As(err, &timeout):
		fmt.Println("the order was stuck in", timeout.Step)
	case err != nil:
		fmt.Println(err)
	}
}

package acme_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
)

// legoDNS is a provider with lego's method set, as every lego DNS provider
// has, writing to the harness's zone example.test.
type legoDNS struct {
	p                  acme.LibDNSProvider
	presents, cleanUps atomic.Int32
}

func (l *legoDNS) record(domain, keyAuth string) libdns.TXT {
	sum := sha256.Sum256([]byte(keyAuth))
	name := strings.TrimSuffix("_acme-challenge."+domain, ".example.test")
	return libdns.TXT{Name: name, TTL: time.Minute, Text: base64.RawURLEncoding.EncodeToString(sum[:])}
}

func (l *legoDNS) Present(domain, _, keyAuth string) error {
	l.presents.Add(1)
	_, err := l.p.AppendRecords(context.Background(), "example.test.", []libdns.Record{l.record(domain, keyAuth)})
	return err
}

func (l *legoDNS) CleanUp(domain, _, keyAuth string) error {
	l.cleanUps.Add(1)
	_, err := l.p.DeleteRecords(context.Background(), "example.test.", []libdns.Record{l.record(domain, keyAuth)})
	return err
}

func TestObtainWithLegoProvider(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	lp := &legoDNS{p: ca.DNS.Provider()}
	cfg := baseConfig(t, ca)
	cfg.DNS01.Provider = nil
	cfg.DNS01.Lego = lp
	name := uniqueName(t)

	cert := mustObtain(t, newIssuer(t, cfg), name, "*."+name)
	verifyChain(t, ca, cert, "x."+name)
	require.EqualValues(t, 2, lp.presents.Load())
	require.EqualValues(t, 2, lp.cleanUps.Load(), "each challenge is cleaned up exactly once")
	require.Empty(t, ca.DNS.TXT("_acme-challenge."+name))
}

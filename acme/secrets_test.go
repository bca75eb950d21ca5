package acme_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
)

// Secret markers: an EAB MAC key (valid base64url) and a DNS API token.
const (
	eabMarker      = "SECRETxEABxHMACxMARKERx0123456789abcdefghij"
	dnsTokenMarker = "SECRET-dns-api-token-4c2e"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tokenProvider is a DNS provider holding an API token, as a cloud
// provider does; it fails its first append.
type tokenProvider struct {
	acme.LibDNSProvider
	Token  string
	failed bool
}

func (p *tokenProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if !p.failed {
		p.failed = true
		return nil, errors.New("HTTP 502 from the DNS API")
	}
	return p.LibDNSProvider.AppendRecords(ctx, zone, recs)
}

// The library with known secrets (an EAB MAC key, a DNS token, the account
// key it generates) under faults: no log line (its own, or lego's through
// slog.Default, at debug level), no error and no stored file but the
// account's own holds any of them; the account file is 0600.
func TestSecretsNeverLeak(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	old := slog.Default()
	slog.SetDefault(logger) // lego's lines
	t.Cleanup(func() { slog.SetDefault(old) })

	ca := acmetest.New(t, acmetest.Options{EAB: map[string]string{"kid-1": eabMarker}})
	dir := t.TempDir()
	var errs []error

	// A malformed MAC key is refused without being quoted.
	bad := baseConfig(t, ca)
	bad.EAB = &acme.ExternalAccountBinding{KeyID: "kid-1", HMACKey: eabMarker + "!!"}
	_, err := acme.New(bad)
	require.Error(t, err)
	errs = append(errs, err)

	cfg := ca.AcmeConfig(t, acme.DirStorage(dir))
	cfg.Logger = logger
	cfg.EAB = &acme.ExternalAccountBinding{KeyID: "kid-1", HMACKey: eabMarker}
	cfg.DNS01.Provider = &tokenProvider{LibDNSProvider: ca.DNS.Provider(), Token: dnsTokenMarker}
	iss := newIssuer(t, cfg)
	for _, f := range []acmetest.Fault{
		{Path: acmetest.NewOrderPath, Times: 1, Kind: acmetest.FaultStatus, Status: 503, RetryAfter: "60"},
		{Path: acmetest.NewOrderPath, Times: 1, Kind: acmetest.FaultStatus, Status: 429, RetryAfter: "60"},
		{Path: acmetest.ChallengePath, Times: 1, Kind: acmetest.FaultDrop},
	} {
		ca.Inject(f)
		_, err := obtain(t, iss, uniqueName(t))
		require.Error(t, err)
		errs = append(errs, err)
	}
	_, err = obtain(t, iss, uniqueName(t)) // the provider's failure
	require.Error(t, err)
	errs = append(errs, err)
	cert := mustObtain(t, iss, uniqueName(t))
	_, _, _, err = iss.RenewalWindow(context.Background(), cert.Leaf)
	require.NoError(t, err)

	// The account key, as stored: its base64 lines are the material.
	var accountFile string
	var stored []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Name() == "account.json" {
			accountFile = path
		}
		stored = append(stored, path)
		return nil
	}))
	require.NotEmpty(t, accountFile)
	info, err := os.Stat(accountFile)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), info.Mode().Perm())
	data, err := os.ReadFile(accountFile)
	require.NoError(t, err)
	var rec struct{ Key string }
	require.NoError(t, json.Unmarshal(data, &rec))
	block, _ := pem.Decode([]byte(rec.Key))
	require.NotNil(t, block)
	keyLines := strings.Split(strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "K", Bytes: block.Bytes}))), "\n")
	keyMaterial := keyLines[1] // the first 64 base64 characters of the key

	secrets := map[string]string{"EAB MAC key": eabMarker, "DNS token": dnsTokenMarker, "account key": keyMaterial}
	places := map[string]string{"logs": logs.String()}
	for i, err := range errs {
		places["error "+string(rune('0'+i))] = err.Error()
	}
	for _, p := range stored {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		if p != accountFile {
			places[p] = string(b)
		} else {
			require.NotContains(t, string(b), eabMarker, "the account file holds no MAC key")
		}
	}
	require.NotEmpty(t, places["logs"])
	for what, secret := range secrets {
		for where, text := range places {
			require.NotContains(t, text, secret, "%s found in %s", what, where)
		}
	}
}

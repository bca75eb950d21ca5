package tlsmgr_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestFallbackIssuer: the first CA answers 503 to new orders, so the
// certificate comes from the second; a restart keeps serving it with no new order; once the first
// CA is back, the next renewal comes from it again.
func TestFallbackIssuer(t *testing.T) {
	first := acmetest.New(t, acmetest.Options{})
	second := acmetest.New(t, acmetest.Options{})
	storage := tlsmgr.NewMemoryStorage()
	name := uniqueName(t)
	cfg := func() tlsmgr.Config {
		return tlsmgr.Config{
			Names:   []string{name},
			Issuers: []tlsmgr.Issuer{acmeIssuer(t, first, storage), acmeIssuer(t, second, storage)},
			Storage: storage,
		}
	}
	status := func(m *tlsmgr.Manager) tlsmgr.CertStatus {
		for _, cs := range m.Status() {
			if cs.Roles[0] == tlsmgr.RoleClient {
				return cs
			}
		}
		t.Fatal("no client certificate in Status")
		return tlsmgr.CertStatus{}
	}

	recover := first.Inject(acmetest.Fault{Path: acmetest.NewOrderPath, Kind: acmetest.FaultStatus, Status: 503, RetryAfter: "120"})
	m := startManager(t, cfg())
	tlsCfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	fromSecond := servedLeaf(t, serve(t, tlsCfg), second.Roots(t), name)
	require.Equal(t, 1, second.Orders())
	require.Zero(t, first.Orders(), "the first CA refused the order")
	require.NotEmpty(t, first.Requests(acmetest.NewOrderPath), "the first CA was asked first")
	st := status(m)
	require.Equal(t, acmeIssuer(t, second, storage).IssuerKey(), st.IssuedBy)
	require.Equal(t, acmeIssuer(t, first, storage).IssuerKey()+"+"+acmeIssuer(t, second, storage).IssuerKey(), st.Issuer)
	require.NoError(t, m.Close())

	// Restart with the first CA still failing: the stored certificate is served.
	m = startManager(t, cfg())
	tlsCfg, err = m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, tlsCfg)
	require.Equal(t, fromSecond.SerialNumber, servedLeaf(t, addr, second.Roots(t), name).SerialNumber)
	require.Equal(t, 1, second.Orders(), "no new order after the restart")
	require.Equal(t, acmeIssuer(t, second, storage).IssuerKey(), status(m).IssuedBy, "known after a restart from the CA's roots")

	// The first CA is back: the renewal comes from it.
	recover()
	require.NoError(t, m.Renew(testCtx(t), tlsmgr.RoleClient))
	fromFirst := servedLeaf(t, addr, first.Roots(t), name)
	require.NotEqual(t, fromSecond.SerialNumber, fromFirst.SerialNumber)
	require.Equal(t, 1, first.Orders())
	require.Equal(t, 1, second.Orders())
	require.Equal(t, acmeIssuer(t, first, storage).IssuerKey(), status(m).IssuedBy)
}

func TestFallbackErrorRetryAtIsTheEarliest(t *testing.T) {
	now := time.Now()
	a, b := &rateLimitError{at: now.Add(time.Hour)}, &rateLimitError{at: now.Add(time.Minute)}
	fe := &tlsmgr.FallbackError{Errs: []error{a, b}}
	require.Equal(t, now.Add(time.Minute), fe.RetryAt())
	fe = &tlsmgr.FallbackError{Errs: []error{a, errors.New("refused")}}
	require.True(t, fe.RetryAt().IsZero(), "a member without Retry-After may be retried at once")
	require.Contains(t, fe.Error(), "refused")
}

func TestConfigRefusesIssuerAndIssuers(t *testing.T) {
	iss := &testIssuer{}
	_, err := tlsmgr.New(tlsmgr.Config{Issuer: iss, Issuers: []tlsmgr.Issuer{iss}, Storage: tlsmgr.NewMemoryStorage()})
	require.ErrorContains(t, err, "both Issuer and Issuers")
	_, err = tlsmgr.New(tlsmgr.Config{Issuers: []tlsmgr.Issuer{nil}, Storage: tlsmgr.NewMemoryStorage()})
	require.ErrorContains(t, err, "issuer 0 is nil")
}

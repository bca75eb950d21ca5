package tlsmgr_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// blockingStorage blocks every Load until its context ends, and reports
// the first one.
type blockingStorage struct {
	tlsmgr.Storage
	entered chan struct{}
}

func (b *blockingStorage) Load(ctx context.Context, key string) ([]byte, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestCloseStopsStartInProgress: Close while Start is still loading from
// storage makes Start return, and no renewal loop starts after Close has
// returned.
func TestCloseStopsStartInProgress(t *testing.T) {
	st := &blockingStorage{Storage: tlsmgr.NewMemoryStorage(), entered: make(chan struct{}, 1)}
	m, err := tlsmgr.New(tlsmgr.Config{PrivateCA: newCA(t, nil, 0), Storage: st})
	require.NoError(t, err)
	started := make(chan error, 1)
	go func() { started <- m.Start(testCtx(t)) }()
	select {
	case <-st.entered:
	case <-testCtx(t).Done():
		t.Fatal("Start never loaded from storage")
	}
	require.NoError(t, m.Close())
	select {
	case err := <-started:
		require.Error(t, err)
	case <-testCtx(t).Done():
		t.Fatal("Start still running after Close")
	}
	require.ErrorContains(t, m.Start(testCtx(t)), "closed")
}

// TestCloseCancelsRenewInProgress: Close while Renew waits on the issuer
// returns promptly, Renew returns an error saying why, and Renew after
// Close is refused with ErrClosed.
func TestCloseCancelsRenewInProgress(t *testing.T) {
	ti := &testIssuer{RootsIssuer: newCA(t, nil, 0)}
	m := startManager(t, tlsmgr.Config{PrivateCA: ti, Storage: tlsmgr.NewMemoryStorage()})
	entered := make(chan struct{}, 1)
	ti.mu.Lock()
	ti.gate = make(chan struct{}) // never opened: every order blocks
	ti.entered = entered
	ti.mu.Unlock()

	renewed := make(chan error, 1)
	go func() { renewed <- m.Renew(testCtx(t), tlsmgr.RoleClient) }()
	select {
	case <-entered:
	case <-testCtx(t).Done():
		t.Fatal("Renew never reached the issuer")
	}
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-testCtx(t).Done():
		t.Fatal("Close still waiting for Renew")
	}
	require.Zero(t, ti.inFlight.Load(), "Close returned before the order in progress ended")
	select {
	case err := <-renewed:
		require.Error(t, err)
		require.True(t, errors.Is(err, context.Canceled) || errors.Is(err, tlsmgr.ErrClosed), "got %v", err)
	case <-testCtx(t).Done():
		t.Fatal("Renew did not return after Close")
	}
	require.ErrorIs(t, m.Renew(testCtx(t), tlsmgr.RoleClient), tlsmgr.ErrClosed)
}

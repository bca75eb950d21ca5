package fakeclock_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/fakeclock"
)

func TestTimersFireOnAdvance(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := fakeclock.New(start)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	a := c.NewTimer(time.Minute)
	b := c.NewTimer(time.Hour)
	stopped := c.NewTimer(time.Second)
	require.True(t, stopped.Stop())
	require.False(t, stopped.Stop())
	require.NoError(t, c.WaitTimers(ctx, 2))
	next, ok := c.Next()
	require.True(t, ok)
	require.Equal(t, start.Add(time.Minute), next)

	c.Advance(time.Minute)
	require.Equal(t, start.Add(time.Minute), <-a.C())
	require.Equal(t, 1, c.Pending())
	c.Set(start.Add(2 * time.Hour))
	require.Equal(t, start.Add(2*time.Hour), <-b.C())
	require.Zero(t, c.Pending())
	require.False(t, b.Stop())

	now := c.NewTimer(0)
	require.Equal(t, c.Now(), <-now.C(), "a non-positive duration fires at once")
}

func TestWaitTimersHonoursContext(t *testing.T) {
	c := fakeclock.New(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.WaitTimers(ctx, 1), context.Canceled)
}

func Example() {
	c := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan time.Time)
	go func() {
		t := c.NewTimer(time.Hour) // the code under test arms a timer
		done <- <-t.C()
	}()
	_ = c.WaitTimers(context.Background(), 1) // no sleep: wait for the timer
	c.Advance(time.Hour)
	fmt.Println((<-done).Format(time.RFC3339))
	// Output:
	// 2026-01-01T01:00:00Z
}

package tlsmgr

import "time"

// A Clock tells the time and makes timers. The Manager reads it for every
// renewal decision and for certificate validity checks at handshakes, so a
// test can drive renewals with a fake clock
// ([github.com/nats-autotls/autotls/internal/fakeclock]) instead of
// sleeping. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// A Timer fires once on C unless stopped first. It is an alias of an
// unnamed interface type so that a clock in a package that does not import
// tlsmgr can implement [Clock].
type Timer = interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing and reports whether it was pending.
	Stop() bool
}

// systemClock is the real clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

// sysTimer adapts *time.Timer to Timer.
type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time { return t.t.C }
func (t sysTimer) Stop() bool          { return t.t.Stop() }

package tlsmgr

import (
	"log/slog"
	"time"
)

// EventType names what happened to a certificate.
type EventType string

// The event types. An order goes obtaining, then installed (the new
// certificate is stored and served), then obtained or renewed; or
// obtaining, then failed or rejected. A certificate loaded from storage is
// only installed.
const (
	// EventObtaining: an order or signing request for a certificate starts.
	EventObtaining EventType = "obtaining"
	// EventObtained: a certificate was issued for names that had none; it
	// is already stored and served.
	EventObtained EventType = "obtained"
	// EventRenewed: a certificate was issued to replace an existing one; it
	// is already stored and served.
	EventRenewed EventType = "renewed"
	// EventInstalled: a certificate (new, or loaded from storage) is now
	// served to handshakes.
	EventInstalled EventType = "installed"
	// EventFailed: obtaining, renewing, loading or storing failed; the
	// previous certificate, if any, is still served.
	EventFailed EventType = "failed"
	// EventRejected: a certificate failed validation (see [ValidationError])
	// and is neither served nor stored.
	EventRejected EventType = "rejected"
)

// An Event reports a step in a certificate's life to [Config.OnEvent]. It
// never holds key material.
type Event struct {
	Type     EventType // what happened
	Time     time.Time // the Manager's clock when it happened
	Roles    []Role    // the roles sharing the certificate
	Names    []string  // the names the certificate is for
	Issuer   string    // the issuer's IssuerKey, "" if not known yet
	NotAfter time.Time // the certificate's expiry, zero if none
	Err      error     // why, for EventFailed and EventRejected
	// Reason says why an order starts, for EventObtaining: one of the
	// Reason constants (such as ReasonARI or ReasonMissing).
	Reason string
	// Failure classifies Err: one of the Failure constants (such as
	// FailureRateLimited), the reason label of the failure metrics; "" if
	// Err is nil.
	Failure string
}

// emit logs ev and hands it to the OnEvent callback. A zero ev.Time is
// set to now.
func (m *Manager) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = m.clock.Now()
	}
	if ev.Err != nil && ev.Failure == "" {
		ev.Failure = FailureReason(ev.Err)
	}
	attrs := []any{
		slog.String("event", string(ev.Type)),
		slog.Any("roles", ev.Roles),
		slog.Any("names", ev.Names),
		slog.String("issuer", ev.Issuer),
	}
	if !ev.NotAfter.IsZero() {
		attrs = append(attrs, slog.Time("not_after", ev.NotAfter))
	}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", ev.Reason))
	}
	switch {
	case ev.Err != nil:
		m.log.Warn("tlsmgr: certificate "+string(ev.Type), append(attrs, slog.String("failure", ev.Failure), slog.String("error", ev.Err.Error()))...)
	default:
		m.log.Info("tlsmgr: certificate "+string(ev.Type), attrs...)
	}
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(ev)
	}
}

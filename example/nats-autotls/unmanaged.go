package main

import (
	"log/slog"
	"time"

	"github.com/nats-autotls/autotls/natsopts"
)

// unmanagedStatus is a listener that serves its own certificate files
// (cert_file/key_file, or --tlscert/--tlskey), as /status shows it.
type unmanagedStatus struct {
	Listener string    `json:"listener"`
	Subject  string    `json:"subject,omitempty"`
	Names    []string  `json:"names,omitempty"`
	NotAfter time.Time `json:"not_after,omitzero"`
}

// unmanagedListeners lists the running server's listeners that serve their
// own certificate, nil if there are none or no server runs.
func (n *node) unmanagedListeners() []unmanagedStatus {
	if n.srv() == nil {
		return nil
	}
	var out []unmanagedStatus
	for _, u := range natsopts.Unmanaged(n.currentOpts(), n.manager) {
		st := unmanagedStatus{Listener: u.Name}
		if c := u.Certificate; c != nil {
			st.Subject, st.NotAfter = c.Subject.String(), c.NotAfter
			st.Names = append(st.Names, c.DNSNames...)
			for _, ip := range c.IPAddresses {
				st.Names = append(st.Names, ip.String())
			}
		}
		out = append(out, st)
	}
	return out
}

// logUnmanaged says once, at start, which listeners keep their own
// certificate files and are not renewed by nats-autotls.
func (n *node) logUnmanaged(logger *slog.Logger) {
	for _, u := range n.unmanagedListeners() {
		logger.Info("listener not managed: it serves its own cert_file/key_file, which nats-autotls does not renew",
			"listener", u.Listener, "subject", u.Subject, "names", u.Names, "not_after", u.NotAfter)
	}
}

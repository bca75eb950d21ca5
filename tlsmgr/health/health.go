// Package health decides whether a [tlsmgr.Manager] serves what it should:
// every listener a certificate from its intended issuer, valid now and for
// longer than a margin. A status server answers /healthz from [Check]'s
// [Report].
//
// # Usage
//
//	targets := []health.Target{{Name: "client", Role: tlsmgr.RoleClient}}
//	rep := health.Check(m, targets, time.Now(), 24*time.Hour)
//	if !rep.Healthy {
//		w.WriteHeader(http.StatusServiceUnavailable)
//	}
//	json.NewEncoder(w).Encode(rep)
//
// A program embedding nats-server gets its targets from
// natsopts.Managed(opts, m).
package health

import (
	"fmt"
	"slices"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// DefaultMargin is a sensible margin: a certificate expiring within a day
// means renewal has been failing for most of its renewal period.
const DefaultMargin = 24 * time.Hour

// A Source is what Check reads; *tlsmgr.Manager is one.
type Source interface {
	Status() []tlsmgr.CertStatus
	IssuerFor(role tlsmgr.Role) tlsmgr.Issuer
}

// A Target is one listener to check: its name and the role whose
// certificate it serves.
type Target struct {
	Name string      // the listener, such as "client" or "https"
	Role tlsmgr.Role // the role whose certificate it serves
}

// A Report is the outcome of Check. Its JSON form is the body of /healthz.
type Report struct {
	// Healthy is true when no target has a problem.
	Healthy bool `json:"healthy"`
	// Reason summarises the first problem, "" when healthy.
	Reason string `json:"reason,omitempty"`
	// Problems lists every target that failed, in target order.
	Problems []Problem `json:"problems,omitempty"`
	// Checked is the number of targets checked.
	Checked int `json:"checked"`
	// Margin is the margin checked against, as a Go duration string.
	Margin string `json:"margin"`
}

// A Problem is one target that is not served as it should be.
type Problem struct {
	Listener string      `json:"listener"` // the Target's Name
	Role     tlsmgr.Role `json:"role"`     // the Target's Role
	Reason   string      `json:"reason"`   // what is wrong, for an operator
	// NotAfter is the served certificate's expiry, zero if none.
	NotAfter time.Time `json:"not_after,omitzero"`
}

// Check reports, at now, whether every target serves a certificate from
// the issuer its role is configured with, valid now and for longer than
// margin. A certificate from another issuer (served while the configured
// issuer's first certificate is obtained) or none at all is a problem.
func Check(src Source, targets []Target, now time.Time, margin time.Duration) Report {
	byRole := make(map[tlsmgr.Role]tlsmgr.CertStatus)
	for _, cs := range src.Status() {
		for _, r := range cs.Roles {
			byRole[r] = cs
		}
	}
	rep := Report{Checked: len(targets), Margin: margin.String()}
	for _, t := range targets {
		cs, ok := byRole[t.Role]
		if reason := problem(src, t.Role, cs, ok, now, margin); reason != "" {
			rep.Problems = append(rep.Problems, Problem{Listener: t.Name, Role: t.Role, Reason: reason, NotAfter: cs.NotAfter})
		}
	}
	rep.Healthy = len(rep.Problems) == 0
	if !rep.Healthy {
		p := rep.Problems[0]
		rep.Reason = fmt.Sprintf("%s (%s): %s", p.Listener, p.Role, p.Reason)
	}
	return rep
}

// problem says what is wrong with role's certificate cs, or "".
func problem(src Source, role tlsmgr.Role, cs tlsmgr.CertStatus, ok bool, now time.Time, margin time.Duration) string {
	switch {
	case !ok || !slices.Contains(cs.Roles, role):
		return "no certificate is managed for this role"
	case !cs.Served:
		return withLastError("no certificate yet", cs)
	}
	if iss := src.IssuerFor(role); iss != nil && iss.IssuerKey() != cs.Issuer {
		return withLastError(fmt.Sprintf("serves a certificate from %s while its issuer %s has not issued one yet", cs.Issuer, iss.IssuerKey()), cs)
	}
	switch left := cs.NotAfter.Sub(now); {
	case now.Before(cs.NotBefore):
		return fmt.Sprintf("certificate not valid before %s", cs.NotBefore.UTC().Format(time.RFC3339))
	case left <= 0:
		return withLastError(fmt.Sprintf("certificate expired at %s", cs.NotAfter.UTC().Format(time.RFC3339)), cs)
	case left <= margin:
		return withLastError(fmt.Sprintf("certificate expires at %s, in %s, within the margin of %s",
			cs.NotAfter.UTC().Format(time.RFC3339), left.Round(time.Second), margin), cs)
	}
	return ""
}

// withLastError appends the last renewal error, if any.
func withLastError(msg string, cs tlsmgr.CertStatus) string {
	if cs.LastError != "" {
		return fmt.Sprintf("%s; last error (%d consecutive failures): %s", msg, cs.Failures, cs.LastError)
	}
	return msg
}

package acme

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// challengeTTL is the TTL of the TXT records the libdns solver writes.
const challengeTTL = 60 * time.Second

// libdnsSolver solves dns-01 challenges through a libdns provider. It
// appends one TXT record per challenge, never sets: a name and its
// wildcard share _acme-challenge.<name> with two values at once. It
// remembers where it writes each record, before writing it, so that cleanUp
// deletes exactly that record, even if DNS answers differently by then, and
// a failed append deletes the record it may have written anyway.
type libdnsSolver struct {
	provider LibDNSProvider
	zone     string    // configured zone, "" to look it up
	res      *resolver // the Issuer's resolvers
	log      *slog.Logger

	// mu guards written.
	mu      sync.Mutex
	written map[string]written
}

// written is a record the solver appended.
type written struct {
	zone string
	rec  libdns.TXT
}

func newLibdnsSolver(p LibDNSProvider, zone string, res *resolver, log *slog.Logger) *libdnsSolver {
	if zone != "" {
		zone = dns.CanonicalName(zone)
	}
	return &libdnsSolver{provider: p, zone: zone, res: res, log: log, written: make(map[string]written)}
}

// present appends the TXT record for one challenge. The record's name
// follows CNAMEs from _acme-challenge.<domain>, so a delegated challenge is
// written in the zone it is delegated to.
func (s *libdnsSolver) present(ctx context.Context, o *order, domain, token, keyAuth string) error {
	fqdn, value := s.res.challengeRecord(ctx, o.budget, domain, keyAuth)
	zone, err := s.zoneFor(ctx, o.budget, fqdn)
	if err != nil {
		return fmt.Errorf("acme: dns-01 present %s: %w", fqdn, err)
	}
	id := challengeID(domain, token)
	w := written{zone: zone, rec: libdns.TXT{Name: libdns.RelativeName(fqdn, zone), TTL: challengeTTL, Text: value}}
	// Remembered before the call: the record may exist even if the call
	// fails (written, then the response was lost or ctx ended).
	s.mu.Lock()
	s.written[id] = w
	s.mu.Unlock()
	_, err = s.provider.AppendRecords(ctx, zone, []libdns.Record{w.rec})
	if err == nil && ctx.Err() != nil {
		// Returned after its deadline: the caller has given up on it.
		err = ctx.Err()
	}
	if err != nil {
		s.undo(id, w)
		return fmt.Errorf("acme: dns-01 present %s (zone %s): %w", fqdn, zone, err)
	}
	s.log.Debug("acme: dns-01 record written", "fqdn", fqdn, "zone", zone)
	return nil
}

// undo deletes, best effort, the record of a failed append that may have
// been written anyway, since lego never calls CleanUp after a failed
// Present. It uses a fresh context bounded by cleanupTimeout, as the
// order's may be over, and logs a failure (never the record's value).
func (s *libdnsSolver) undo(id string, w written) {
	s.mu.Lock()
	delete(s.written, id)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	fqdn := libdns.AbsoluteName(w.rec.Name, w.zone)
	if _, err := s.provider.DeleteRecords(ctx, w.zone, []libdns.Record{w.rec}); err != nil {
		s.log.Warn("acme: dns-01 append failed and its record may be left behind", "fqdn", fqdn, "zone", w.zone, "err", err)
		return
	}
	s.log.Debug("acme: dns-01 record deleted after a failed append", "fqdn", fqdn, "zone", w.zone)
}

// cleanUp deletes the record present wrote for this challenge, if any.
func (s *libdnsSolver) cleanUp(ctx context.Context, domain, token, _ string) error {
	id := challengeID(domain, token)
	s.mu.Lock()
	w, ok := s.written[id]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	fqdn := libdns.AbsoluteName(w.rec.Name, w.zone)
	if _, err := s.provider.DeleteRecords(ctx, w.zone, []libdns.Record{w.rec}); err != nil {
		return fmt.Errorf("acme: dns-01 clean up %s (zone %s): %w", fqdn, w.zone, err)
	}
	s.mu.Lock()
	delete(s.written, id)
	s.mu.Unlock()
	s.log.Debug("acme: dns-01 record deleted", "fqdn", fqdn, "zone", w.zone)
	return nil
}

// zoneFor returns the configured zone if fqdn is in it, else the zone found
// by an SOA lookup.
func (s *libdnsSolver) zoneFor(ctx context.Context, b budget, fqdn string) (string, error) {
	if s.zone != "" && dns.IsSubDomain(s.zone, dns.CanonicalName(fqdn)) {
		return s.zone, nil
	}
	return s.res.findZone(ctx, b, fqdn)
}

// challengeID identifies one challenge of one order.
func challengeID(domain, token string) string { return domain + "\x00" + token }

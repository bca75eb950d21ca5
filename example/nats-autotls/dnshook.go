package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/libdns/libdns"

	"github.com/nats-autotls/autotls/acme"
)

// hookTimeout bounds one run of the DNS hook.
const hookTimeout = 2 * time.Minute

// dnsHook is a libdns provider that runs an operator's program to add and
// remove the TXT records of DNS-01 challenges, as lego's exec provider and
// certbot's manual hooks do:
//
//	HOOK present _acme-challenge.nats.example.com. VALUE
//	HOOK cleanup _acme-challenge.nats.example.com. VALUE
//
// The program holds its own DNS credentials: none pass through this
// process. It must exit 0 once the record is published (present) or gone
// (cleanup); present may be called twice for one name with two values (a
// name and its wildcard), and each value must be kept.
type dnsHook struct{ path string }

var _ acme.LibDNSProvider = dnsHook{}

// AppendRecords runs "present" for each TXT record.
func (h dnsHook) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return h.run(ctx, "present", zone, recs)
}

// DeleteRecords runs "cleanup" for each TXT record.
func (h dnsHook) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return h.run(ctx, "cleanup", zone, recs)
}

func (h dnsHook) run(ctx context.Context, action, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	done := make([]libdns.Record, 0, len(recs))
	for _, rec := range recs {
		rr := rec.RR()
		if rr.Type != "TXT" {
			return done, fmt.Errorf("dns hook: %s: only TXT records are supported, got %s", action, rr.Type)
		}
		fqdn := libdns.AbsoluteName(rr.Name, zone)
		if err := h.exec(ctx, action, fqdn, rr.Data); err != nil {
			return done, err
		}
		done = append(done, rec)
	}
	return done, nil
}

// exec runs the hook once; its output is quoted in the error, not logged.
func (h dnsHook) exec(ctx context.Context, action, fqdn, value string) error {
	ctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, h.path, action, fqdn, value)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 500 {
			msg = msg[:500] + "..."
		}
		return fmt.Errorf("dns hook %s %s %s: %w: %s", h.path, action, fqdn, err, msg)
	}
	return nil
}

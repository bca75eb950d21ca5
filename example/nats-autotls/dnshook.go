package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/libdns/libdns"

	"github.com/nats-autotls/autotls/acme"
)

// hookTimeout bounds one run of the DNS hook, its children included.
const hookTimeout = 2 * time.Minute

// hookWaitDelay is how long the binary waits for the hook's process group
// to go once it has been killed.
const hookWaitDelay = 5 * time.Second

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
//
// The hook runs in its own process group, with no input and its output
// discarded: a hook that prints its credentials (set -x, curl -v) cannot
// leak them into a log line, an error, the status endpoint or storage, and
// a child that keeps the output open cannot hold the wait. At the
// deadline (hookTimeout, or the order's own deadline if sooner) the whole
// group is killed. A failure names the step, the exit status and the
// command to rerun by hand to see the output.
type dnsHook struct {
	path    string
	timeout time.Duration // zero: hookTimeout
}

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

// exec runs the hook once, in its own process group, and kills the group
// at the deadline. Its output is never read: see dnsHook.
func (h dnsHook) exec(ctx context.Context, action, fqdn, value string) error {
	timeout := h.timeout
	if timeout <= 0 {
		timeout = hookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.path, action, fqdn, value)
	// Stdin, Stdout and Stderr stay nil: /dev/null, no pipe to hold open.
	cmd.WaitDelay = hookWaitDelay
	inOwnGroup(cmd)
	err := cmd.Run()
	if ctx.Err() != nil {
		killGroup(cmd) // children that outlived a killed hook
	}
	if err == nil {
		return nil
	}
	rerun := fmt.Sprintf("its output is not logged as it may hold credentials: run %q %s %s %s by hand to see it", h.path, action, fqdn, value)
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("dns hook %s %s: killed with its process group after %s: %w; %s", action, fqdn, timeout, ctx.Err(), rerun)
	case errors.As(err, &exitErr):
		return fmt.Errorf("dns hook %s %s: %s; %s", action, fqdn, exitErr.ProcessState, rerun)
	default:
		return fmt.Errorf("dns hook %s %s: run %s: %w", action, fqdn, h.path, err)
	}
}

package dnstest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// Provider is a libdns provider editing a [Server]'s record store the way a
// DNS hosting API would: every call names a served zone, and record names
// are relative to it ("@" is the apex). It stores TXT and CNAME records
// (the server answers those) and keeps any other type in the store without
// serving it. Get it from [Server.Provider]; the zero value is not usable.
//
// Every method is atomic: a call that fails changes nothing. Provider is
// safe for concurrent use.
type Provider struct {
	srv *Server

	// mu guards the fault knobs and counters.
	mu          sync.Mutex
	failAppends int
	appendErr   error
	failDeletes int
	deleteErr   error
	appends     int
	deletes     int
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)

// FailNext makes the next n calls to AppendRecords or SetRecords fail with
// err, changing nothing. n <= 0 clears the knob.
func (p *Provider) FailNext(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failAppends, p.appendErr = max(n, 0), err
}

// FailDeletes makes the next n calls to DeleteRecords fail with err,
// changing nothing. n <= 0 clears the knob.
func (p *Provider) FailDeletes(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failDeletes, p.deleteErr = max(n, 0), err
}

// Calls returns how many times AppendRecords or SetRecords (appends) and
// DeleteRecords (deletes) were called on this Provider, failed calls
// included.
func (p *Provider) Calls() (appends, deletes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.appends, p.deletes
}

// countAppend counts an append-type call and returns the injected error, if
// any.
func (p *Provider) countAppend() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.appends++
	if p.failAppends == 0 {
		return nil
	}
	p.failAppends--
	return p.appendErr
}

// countDelete counts a delete call and returns the injected error, if any.
func (p *Provider) countDelete() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deletes++
	if p.failDeletes == 0 {
		return nil
	}
	p.failDeletes--
	return p.deleteErr
}

// ListZones returns the zones the server serves, sorted.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dnstest: list zones: %w", err)
	}
	names := p.srv.Zones()
	sort.Strings(names)
	out := make([]libdns.Zone, len(names))
	for i, n := range names {
		out[i] = libdns.Zone{Name: n}
	}
	return out, nil
}

// GetRecords returns every stored record in zone, names relative to zone.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	z, err := p.begin(ctx, "get records", zone)
	if err != nil {
		return nil, err
	}
	p.srv.mu.RLock()
	defer p.srv.mu.RUnlock()
	var out []libdns.Record
	for _, r := range p.srv.records {
		if owner, _ := p.srv.zoneOfLocked(r.name); owner == z {
			out = append(out, toLibdns(r, z))
		}
	}
	return out, nil
}

// AppendRecords adds recs to zone and returns them. A record identical to a
// stored one (same name, type and value) is stored once, as in an RRset.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.edit(ctx, "append records", zone, p.countAppend, func(z string) []libdns.Record {
		return p.addAllLocked(z, recs)
	})
}

// SetRecords makes recs the only records of their (name, type) pairs in
// zone and returns them.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.edit(ctx, "set records", zone, p.countAppend, func(z string) []libdns.Record {
		for _, rec := range recs {
			r := fromLibdns(rec, z)
			p.srv.deleteLocked(record{name: r.name, typ: r.typ})
		}
		return p.addAllLocked(z, recs)
	})
}

// DeleteRecords deletes the stored records matching recs and returns them.
// As libdns specifies, an empty type, zero TTL or empty value in an input
// record matches any; the name must always be given.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.edit(ctx, "delete records", zone, p.countDelete, func(z string) []libdns.Record {
		var out []libdns.Record
		for _, rec := range recs {
			for _, r := range p.srv.deleteLocked(fromLibdns(rec, z)) {
				out = append(out, toLibdns(r, z))
			}
		}
		return out
	})
}

// edit runs the store change fn for operation op on zone under the store
// lock, after checking ctx and the zone and consuming a fault from count.
func (p *Provider) edit(ctx context.Context, op, zone string, count func() error, fn func(z string) []libdns.Record) ([]libdns.Record, error) {
	z, err := p.begin(ctx, op, zone)
	if err != nil {
		return nil, err
	}
	if err := count(); err != nil {
		return nil, fmt.Errorf("dnstest: %s: %w", op, err)
	}
	p.srv.mu.Lock()
	defer p.srv.mu.Unlock()
	return fn(z), nil
}

// addAllLocked stores recs in zone z and returns them as typed records.
func (p *Provider) addAllLocked(z string, recs []libdns.Record) []libdns.Record {
	out := make([]libdns.Record, 0, len(recs))
	for _, rec := range recs {
		r := fromLibdns(rec, z)
		p.srv.addLocked(r)
		out = append(out, toLibdns(r, z))
	}
	return out
}

// begin checks ctx and that zone is served, and returns the canonical zone.
func (p *Provider) begin(ctx context.Context, op, zone string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("dnstest: %s: %w", op, err)
	}
	z := dns.CanonicalName(zone)
	p.srv.mu.RLock()
	_, ok := p.srv.zones[z]
	p.srv.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("dnstest: %s: zone %q is not served by this server; add it with Start or AddZone", op, zone)
	}
	return z, nil
}

// fromLibdns converts a libdns record in zone z to a store record.
func fromLibdns(rec libdns.Record, z string) record {
	rr := rec.RR()
	r := record{
		name: dns.CanonicalName(libdns.AbsoluteName(rr.Name, z)),
		typ:  strings.ToUpper(rr.Type),
		data: rr.Data,
		ttl:  rr.TTL,
	}
	if r.typ == "CNAME" && r.data != "" {
		r.data = dns.CanonicalName(r.data)
	}
	return r
}

// toLibdns converts a store record to a typed libdns record relative to z.
func toLibdns(r record, z string) libdns.Record {
	rr := libdns.RR{Name: libdns.RelativeName(r.name, z), TTL: r.ttl, Type: r.typ, Data: r.data}
	typed, err := rr.Parse()
	if err != nil {
		return rr
	}
	return typed
}

package acme

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// resolvConf is where the system's recursive resolvers are listed.
const resolvConf = "/etc/resolv.conf"

// maxCNAMEs bounds the CNAME chain followed from _acme-challenge.<name>.
const maxCNAMEs = 50

// resolver makes the dns-01 lookups of one Issuer (CNAMEs, zones,
// propagation) with that Issuer's own recursive resolvers, so that Issuers
// with different DNS01.Resolvers never share, wait for or change each
// other's settings (lego keeps its own in package variables). Every query
// takes a context and is bounded by the order's budget.
type resolver struct {
	servers  []string // host:port; empty: those of /etc/resolv.conf
	authPort string   // port of authoritative servers; "" means 53
}

// newResolver returns a resolver for servers ("host" or "host:port").
func newResolver(servers []string) *resolver {
	r := &resolver{}
	for _, s := range servers {
		r.servers = append(r.servers, withPort(s))
	}
	return r
}

// withPort adds port 53 to a host without one.
func withPort(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53")
}

// recursive returns the recursive resolvers to ask.
func (r *resolver) recursive() ([]string, error) {
	if len(r.servers) > 0 {
		return r.servers, nil
	}
	conf, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil || len(conf.Servers) == 0 {
		return nil, fmt.Errorf("no DNS01.Resolvers set and none found in %s", resolvConf)
	}
	out := make([]string, 0, len(conf.Servers))
	for _, s := range conf.Servers {
		out = append(out, net.JoinHostPort(s, conf.Port))
	}
	return out, nil
}

// challengeRecord returns the name and value of the TXT record for a
// dns-01 challenge: _acme-challenge.<domain>, after following CNAMEs, and
// the base64url SHA-256 of the key authorization (RFC 8555 section 8.4).
func (r *resolver) challengeRecord(ctx context.Context, b budget, domain, keyAuth string) (fqdn, value string) {
	sum := sha256.Sum256([]byte(keyAuth))
	return r.followCNAMEs(ctx, b, challengeName(domain)), base64.RawURLEncoding.EncodeToString(sum[:])
}

// challengeName returns _acme-challenge.<domain>, fully qualified.
func challengeName(domain string) string { return "_acme-challenge." + dns.Fqdn(domain) }

// followCNAMEs returns the end of the CNAME chain that starts at fqdn, or
// fqdn if it has no CNAME or the lookup fails.
func (r *resolver) followCNAMEs(ctx context.Context, b budget, fqdn string) string {
	for range maxCNAMEs {
		msg, err := r.ask(ctx, b, fqdn, dns.TypeCNAME)
		if err != nil || msg.Rcode != dns.RcodeSuccess {
			return fqdn
		}
		next := ""
		for _, rr := range msg.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, fqdn) {
				next = dns.Fqdn(cn.Target)
			}
		}
		if next == "" || strings.EqualFold(next, fqdn) {
			return fqdn
		}
		fqdn = next
	}
	return fqdn
}

// findZone returns the zone fqdn is in: the closest enclosing name with an
// SOA record.
func (r *resolver) findZone(ctx context.Context, b budget, fqdn string) (string, error) {
	fqdn = dns.Fqdn(fqdn)
	var lastErr error
	for _, off := range dns.Split(fqdn) {
		name := fqdn[off:]
		msg, err := r.ask(ctx, b, name, dns.TypeSOA)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		for _, rr := range msg.Answer {
			if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, name) {
				return dns.CanonicalName(name), nil
			}
		}
	}
	if lastErr != nil {
		return "", fmt.Errorf("find the zone of %s: %w", fqdn, lastErr)
	}
	return "", fmt.Errorf("find the zone of %s: no SOA record found", fqdn)
}

// propagated reports whether the TXT record fqdn holds value on every
// server that must see it: the recursive resolvers when authoritative is
// false, else every authoritative server of the zone (on port 53). A
// server that cannot be asked counts as not yet propagated.
func (r *resolver) propagated(ctx context.Context, b budget, fqdn, value string, authoritative bool) (bool, error) {
	servers, err := r.recursive()
	if authoritative && err == nil {
		servers, err = r.authoritative(ctx, b, fqdn)
	}
	if err != nil {
		return false, err
	}
	for _, s := range servers {
		msg, err := r.askServer(ctx, b, s, fqdn, dns.TypeTXT, !authoritative)
		if err != nil || !hasTXT(msg, value) {
			return false, nil
		}
	}
	return true, nil
}

// authoritative returns the addresses of the name servers of fqdn's
// zone, on port 53 (authPort), each looked up with the Issuer's own
// resolvers (glue first).
func (r *resolver) authoritative(ctx context.Context, b budget, fqdn string) ([]string, error) {
	zone, err := r.findZone(ctx, b, fqdn)
	if err != nil {
		return nil, err
	}
	msg, err := r.ask(ctx, b, zone, dns.TypeNS)
	if err != nil {
		return nil, fmt.Errorf("name servers of %s: %w", zone, err)
	}
	port := r.authPort
	if port == "" {
		port = "53"
	}
	var out []string
	for _, rr := range msg.Answer {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		ip := r.address(ctx, b, msg, ns.Ns)
		if ip == "" {
			return nil, fmt.Errorf("name server %s of %s: no address", ns.Ns, zone)
		}
		out = append(out, net.JoinHostPort(ip, port))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("name servers of %s: none found", zone)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// address returns an IP address of host: from the glue in msg, else from
// an A, then AAAA, query to the resolvers; "" if none.
func (r *resolver) address(ctx context.Context, b budget, msg *dns.Msg, host string) string {
	for _, rr := range msg.Extra {
		if a, ok := rr.(*dns.A); ok && strings.EqualFold(a.Hdr.Name, host) {
			return a.A.String()
		}
	}
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m, err := r.ask(ctx, b, host, qtype)
		if err != nil {
			continue
		}
		for _, rr := range m.Answer {
			switch a := rr.(type) {
			case *dns.A:
				return a.A.String()
			case *dns.AAAA:
				return a.AAAA.String()
			}
		}
	}
	return ""
}

// hasTXT reports whether msg answers a TXT record with value.
func hasTXT(msg *dns.Msg, value string) bool {
	for _, rr := range msg.Answer {
		if txt, ok := rr.(*dns.TXT); ok && strings.Join(txt.Txt, "") == value {
			return true
		}
	}
	return false
}

// ask sends a recursive query to the recursive resolvers in turn and
// returns the first answer.
func (r *resolver) ask(ctx context.Context, b budget, name string, qtype uint16) (*dns.Msg, error) {
	servers, err := r.recursive()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, s := range servers {
		msg, err := r.askServer(ctx, b, s, name, qtype, true)
		if err == nil {
			return msg, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// askServer sends one query to server over UDP, and again over TCP if the
// answer was truncated, within the budget's query timeout.
func (r *resolver) askServer(ctx context.Context, b budget, server, name string, qtype uint16, recursive bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(4096, false)
	m.RecursionDesired = recursive
	msg, err := exchange(ctx, b.query, "udp", server, m)
	if err == nil && msg.Truncated {
		msg, err = exchange(ctx, b.query, "tcp", server, m)
	}
	if err != nil {
		return nil, fmt.Errorf("DNS %s %s at %s: %w", dns.TypeToString[qtype], name, server, err)
	}
	return msg, nil
}

// exchange makes one DNS exchange bounded by timeout and ctx.
func exchange(ctx context.Context, timeout time.Duration, network, server string, m *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &dns.Client{Net: network, Timeout: timeout}
	msg, _, err := c.ExchangeContext(ctx, m, server)
	return msg, err
}

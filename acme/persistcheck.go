package acme

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// persistLookupTimeout bounds each DNS query of the check before an order.
const persistLookupTimeout = 5 * time.Second

// persistParams is a parsed dns-persist-01 record value.
type persistParams struct {
	issuer     string
	accountURI string
	wildcard   bool
	until      time.Time // zero: none
}

// parsePersistValue parses a record value as the CA does: the issuer
// domain name, then tag=value parameters separated by ";".
func parsePersistValue(v string) (persistParams, error) {
	parts := strings.Split(v, ";")
	p := persistParams{issuer: strings.TrimSpace(parts[0])}
	if p.issuer == "" {
		return p, fmt.Errorf("no issuer domain name")
	}
	for _, raw := range parts[1:] {
		tag, val, ok := strings.Cut(strings.TrimSpace(raw), "=")
		if !ok {
			return p, fmt.Errorf("parameter %q is not tag=value", strings.TrimSpace(raw))
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(tag)) {
		case "accounturi":
			p.accountURI = val
		case "policy":
			p.wildcard = strings.EqualFold(val, "wildcard")
		case "persistuntil":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return p, fmt.Errorf("persistUntil %q is not a Unix time", val)
			}
			p.until = time.Unix(n, 0)
		}
	}
	return p, nil
}

// checkPersist confirms, with read-only DNS queries, that every name has a
// published record that authorizes this account, so that a mismatch is
// reported naming the record and the expected value instead of as a
// failed validation at the CA. It warns when a record's persistUntil is
// near.
func (i *Issuer) checkPersist(ctx context.Context, names []string, issuer, accountURL string) error {
	recs, err := persistRecords(names, issuer, accountURL, time.Time{})
	if err != nil {
		return err
	}
	cfg := i.cfg.DNSPersist01
	warn := cfg.WarnBefore
	if warn <= 0 {
		warn = DefaultPersistWarning
	}
	servers, err := persistResolvers(cfg.Resolvers)
	if err != nil {
		return err
	}
	for _, r := range recs {
		found, err := lookupTXT(ctx, servers, r.Name)
		if err != nil {
			return &ValidationError{Name: r.Covers[0], Detail: fmt.Sprintf("dns-persist-01: look up TXT %s: %v", r.Name, err)}
		}
		if err := matchPersist(r, found, issuer, accountURL, i.now(), warn, i.log.Warn); err != nil {
			return err
		}
	}
	return nil
}

// matchPersist checks found (the TXT values at r.Name) against what r
// needs.
func matchPersist(r PersistRecord, found []string, issuer, accountURL string, now time.Time, warn time.Duration, logWarn func(string, ...any)) error {
	wildcard := strings.Contains(r.Value, "policy=wildcard")
	var why []string
	for _, v := range found {
		p, err := parsePersistValue(v)
		switch {
		case err != nil:
			why = append(why, fmt.Sprintf("%q: %v", v, err))
			continue
		case !strings.EqualFold(p.issuer, issuer):
			continue // another CA's record
		case p.accountURI != accountURL:
			why = append(why, fmt.Sprintf("%q: accounturi is not this account's", v))
			continue
		case wildcard && !p.wildcard:
			why = append(why, fmt.Sprintf("%q: no policy=wildcard, which %s needs", v, strings.Join(r.Covers, ", ")))
			continue
		case !p.until.IsZero() && !now.Before(p.until):
			why = append(why, fmt.Sprintf("%q: persistUntil %s has passed", v, p.until.UTC().Format(time.RFC3339)))
			continue
		}
		if !p.until.IsZero() && p.until.Sub(now) < warn {
			logWarn("acme: dns-persist-01 record expires soon: publish a new one", "record", r.Name, "persist_until", p.until.UTC().Format(time.RFC3339))
		}
		return nil
	}
	detail := "no TXT record published"
	if len(why) > 0 {
		detail = "no matching TXT record (" + strings.Join(why, "; ") + ")"
	} else if len(found) > 0 {
		detail = "no TXT record names issuer " + issuer
	}
	return &ValidationError{Name: r.Covers[0],
		Detail: fmt.Sprintf("dns-persist-01: %s at %s; publish: %s", detail, r.Name, r)}
}

// persistResolvers returns the servers to query, as host:port.
func persistResolvers(resolvers []string) ([]string, error) {
	if len(resolvers) == 0 {
		cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return nil, &ConfigError{Field: "DNSPersist01.Resolvers", Value: "", Fix: "no /etc/resolv.conf: set the resolvers to query", err: err}
		}
		for _, s := range cc.Servers {
			resolvers = append(resolvers, net.JoinHostPort(s, cc.Port))
		}
	}
	out := make([]string, 0, len(resolvers))
	for _, r := range resolvers {
		if _, _, err := net.SplitHostPort(r); err != nil {
			r = net.JoinHostPort(r, "53")
		}
		out = append(out, r)
	}
	return out, nil
}

// lookupTXT asks each server in turn for the TXT values at name.
func lookupTXT(ctx context.Context, servers []string, name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	m.RecursionDesired = true
	var lastErr error
	for _, s := range servers {
		qctx, cancel := context.WithTimeout(ctx, persistLookupTimeout)
		in, _, err := (&dns.Client{Net: "tcp"}).ExchangeContext(qctx, m, s)
		cancel()
		if err != nil {
			lastErr = err
			continue
		}
		if in.Rcode != dns.RcodeSuccess && in.Rcode != dns.RcodeNameError {
			lastErr = fmt.Errorf("%s answered %s", s, dns.RcodeToString[in.Rcode])
			continue
		}
		var out []string
		for _, rr := range in.Answer {
			if t, ok := rr.(*dns.TXT); ok {
				out = append(out, strings.Join(t.Txt, ""))
			}
		}
		return out, nil
	}
	return nil, lastErr
}

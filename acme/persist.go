package acme

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	legoacme "github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/acme/api"
	"github.com/nats-autotls/autotls/internal/certutil"
)

// challengeDNSPersist01 is the challenge type of draft-ietf-acme-dns-persist.
const challengeDNSPersist01 = "dns-persist-01"

// persistLabel is the label the dns-persist-01 record is published under.
const persistLabel = "_validation-persist."

// DefaultPersistWarning is how long before a record's persistUntil the
// Issuer starts warning, when [DNSPersist01.WarnBefore] is zero.
const DefaultPersistWarning = 30 * 24 * time.Hour

// DNSPersist01 configures the dns-persist-01 challenge
// (draft-ietf-acme-dns-persist): the operator publishes one TXT record per
// name, once, and every order after that needs no DNS write, no DNS
// credentials and no inbound port. [Issuer.PersistRecords] prints the
// records to publish.
//
// An order uses dns-persist-01 when every name is a DNS name (or wildcard)
// and the CA offers the challenge; orders with IP addresses use HTTP01.
type DNSPersist01 struct {
	// IssuerDomainName is the CA's issuer domain name that the records
	// name. Empty means the first of the directory's meta.caaIdentities
	// (for Let's Encrypt, "letsencrypt.org").
	IssuerDomainName string

	// PersistUntil, if not zero, is the time after which the printed
	// records stop authorizing (their persistUntil parameter). Zero means
	// the records never expire.
	PersistUntil time.Time

	// Resolvers are the DNS servers ("host" or "host:port") the read-only
	// check before each order queries. Empty means those of
	// /etc/resolv.conf.
	Resolvers []string

	// SkipCheck disables the check before each order that the records are
	// published and match; the CA's validation then reports a mismatch.
	SkipCheck bool

	// WarnBefore is how long before a published record's persistUntil each
	// order logs a warning. Zero means [DefaultPersistWarning].
	WarnBefore time.Duration
}

// PersistRecord is a TXT record to publish once for dns-persist-01.
type PersistRecord struct {
	// Name is the record's fully qualified name, with a trailing dot, for
	// example "_validation-persist.nats.example.com.".
	Name string
	// Value is the TXT value, for example
	// "letsencrypt.org; accounturi=https://...; policy=wildcard".
	Value string
	// Covers are the configured names the record authorizes.
	Covers []string
}

// String returns the record as a zone-file line.
func (r PersistRecord) String() string {
	return fmt.Sprintf("%s 3600 IN TXT %q", r.Name, r.Value)
}

// PersistRecords returns the dns-persist-01 TXT records to publish for
// names: one per name, with policy=wildcard where the name's wildcard is
// among names. It loads the ACME account from Config.Storage, or registers
// it (and stores it) first, because each record names the account URL.
// It places no order and writes no DNS record.
func (i *Issuer) PersistRecords(ctx context.Context, names []string) ([]PersistRecord, error) {
	if len(names) == 0 {
		return nil, errors.New("acme: persist records: no names")
	}
	select {
	case i.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("acme: persist records: waiting for the running order: %w", ctx.Err())
	}
	type res struct {
		recs []PersistRecord
		err  error
	}
	done := make(chan res, 1)
	go func() {
		defer func() { <-i.sem }()
		recs, err := i.persistRecordsLocked(ctx, names)
		done <- res{recs, err}
	}()
	select {
	case r := <-done:
		return r.recs, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("acme: persist records: %w", ctx.Err())
	}
}

// persistRecordsLocked computes the records; the caller holds i.sem.
func (i *Issuer) persistRecordsLocked(ctx context.Context, names []string) ([]PersistRecord, error) {
	if _, err := i.client(ctx); err != nil {
		return nil, err
	}
	issuer, err := i.persistIssuer(ctx)
	if err != nil {
		return nil, err
	}
	var until time.Time
	if i.cfg.DNSPersist01 != nil {
		until = i.cfg.DNSPersist01.PersistUntil
	}
	return persistRecords(names, issuer, i.AccountURL(), until)
}

// persistRecords builds one record per base name of names.
func persistRecords(names []string, issuer, accountURL string, until time.Time) ([]PersistRecord, error) {
	var out []PersistRecord
	index := map[string]int{}
	for _, n := range names {
		if isIP(n) {
			return nil, &ConfigError{Field: "DNSPersist01", Value: n, Fix: "dns-persist-01 proves DNS names only: obtain IP addresses over HTTP01"}
		}
		base := strings.TrimSuffix(strings.ToLower(strings.TrimPrefix(n, "*.")), ".")
		k, ok := index[base]
		if !ok {
			k = len(out)
			index[base] = k
			out = append(out, PersistRecord{Name: persistLabel + base + "."})
		}
		out[k].Covers = append(out[k].Covers, n)
	}
	for k := range out {
		wildcard := slices.ContainsFunc(out[k].Covers, func(n string) bool { return strings.HasPrefix(n, "*.") })
		out[k].Value = persistValue(issuer, accountURL, wildcard, until)
	}
	return out, nil
}

// persistValue formats a record value.
func persistValue(issuer, accountURL string, wildcard bool, until time.Time) string {
	v := issuer + "; accounturi=" + accountURL
	if wildcard {
		v += "; policy=wildcard"
	}
	if !until.IsZero() {
		v += "; persistUntil=" + strconv.FormatInt(until.Unix(), 10)
	}
	return v
}

// persistIssuer returns the issuer domain name the records must name.
func (i *Issuer) persistIssuer(ctx context.Context) (string, error) {
	if d := i.cfg.DNSPersist01; d != nil && d.IssuerDomainName != "" {
		return d.IssuerDomainName, nil
	}
	dir, err := i.directory(ctx)
	if err != nil {
		return "", err
	}
	if len(dir.Meta.CAAIdentities) == 0 {
		return "", &ConfigError{Field: "DNSPersist01.IssuerDomainName", Value: "",
			Fix: "the CA's directory lists no caaIdentities: set the issuer domain name the CA documents for dns-persist-01"}
	}
	return dir.Meta.CAAIdentities[0], nil
}

// usePersist reports whether req is ordered over dns-persist-01.
func (i *Issuer) usePersist(req *request) bool {
	return i.cfg.DNSPersist01 != nil && !slices.ContainsFunc(req.names, isIP)
}

// obtainPersist orders req over dns-persist-01 with lego's core client:
// lego v4 has no solver for it, and the client only has to POST {} to each
// challenge. The caller holds i.sem and has built the client (so the
// account is registered).
func (i *Issuer) obtainPersist(ctx context.Context, req *request) ([][]byte, error) {
	issuer, err := i.persistIssuer(ctx)
	if err != nil {
		return nil, err
	}
	acct := i.acct
	if !i.cfg.DNSPersist01.SkipCheck {
		if err := i.checkPersist(ctx, req.names, issuer, acct.reg.URI); err != nil {
			return nil, err
		}
	}
	core, err := api.New(i.legoHTTP(), userAgent, i.cfg.DirectoryURL, acct.reg.URI, acct.key)
	if err != nil {
		return nil, classify(fmt.Errorf("acme: client: %w", err), i.now())
	}
	opts := &api.OrderOptions{Profile: i.cfg.Profile, ReplacesCertID: req.replaces}
	if i.cfg.Lifetime > 0 {
		opts.NotAfter = i.now().Add(i.cfg.Lifetime)
	}
	order, err := core.Orders.NewWithOptions(req.names, opts)
	if err != nil {
		return nil, classify(err, i.now())
	}
	for _, u := range order.Authorizations {
		if err := i.persistAuthorize(ctx, core, u); err != nil {
			return nil, err
		}
	}
	finalized, err := core.Orders.UpdateForCSR(order.Finalize, req.csr.Raw)
	if err != nil {
		return nil, classify(err, i.now())
	}
	finalized.Location = order.Location
	if order, err = i.pollOrder(ctx, core, finalized); err != nil {
		return nil, err
	}
	pemChain, _, err := core.Certificates.Get(order.Certificate, true)
	if err != nil {
		return nil, classify(err, i.now())
	}
	return certutil.DecodeChain(pemChain)
}

// persistAuthorize answers one authorization's dns-persist-01 challenge
// and waits until the CA has decided.
func (i *Issuer) persistAuthorize(ctx context.Context, core *api.Core, authzURL string) error {
	authz, err := core.Authorizations.Get(authzURL)
	if err != nil {
		return classify(err, i.now())
	}
	if authz.Status == legoacme.StatusValid {
		return nil
	}
	name := authz.Identifier.Value
	if authz.Wildcard {
		name = "*." + name
	}
	idx := slices.IndexFunc(authz.Challenges, func(c legoacme.Challenge) bool { return c.Type == challengeDNSPersist01 })
	if idx < 0 {
		offered := make([]string, 0, len(authz.Challenges))
		for _, c := range authz.Challenges {
			offered = append(offered, c.Type)
		}
		return &ConfigError{Field: "DNSPersist01", Value: name,
			Fix: "the CA does not offer dns-persist-01 for this name (it offers " + strings.Join(offered, ", ") + "): configure DNS01 or HTTP01 instead"}
	}
	i.log.Debug("acme: dns-persist-01: answering challenge", "name", name)
	if _, err := core.Challenges.New(authz.Challenges[idx].URL); err != nil {
		return classify(err, i.now())
	}
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		authz, err = core.Authorizations.Get(authzURL)
		if err != nil {
			return classify(err, i.now())
		}
		switch authz.Status {
		case legoacme.StatusValid:
			return nil
		case legoacme.StatusPending, legoacme.StatusProcessing:
		default:
			detail := "authorization " + authz.Status
			for _, c := range authz.Challenges {
				if c.Type == challengeDNSPersist01 && c.Error != nil {
					detail = c.Error.Detail
				}
			}
			return &ValidationError{Name: name, Detail: "dns-persist-01 (record " + persistLabel + authz.Identifier.Value + "): " + detail}
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return fmt.Errorf("acme: dns-persist-01 %s: waiting for the CA: %w", name, err)
		}
	}
}

// pollOrder waits until a finalized order is valid.
func (i *Issuer) pollOrder(ctx context.Context, core *api.Core, order legoacme.ExtendedOrder) (legoacme.ExtendedOrder, error) {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		switch order.Status {
		case legoacme.StatusValid:
			return order, nil
		case legoacme.StatusInvalid:
			msg := "order invalid"
			if order.Error != nil {
				msg = order.Error.Detail
			}
			return order, fmt.Errorf("acme: finalize: %s", msg)
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return order, fmt.Errorf("acme: finalize: waiting for the CA: %w", err)
		}
		o, err := core.Orders.Get(order.Location)
		if err != nil {
			return order, classify(err, i.now())
		}
		o.Location = order.Location
		order = o
	}
}

// isIP reports whether name is an IP address.
func isIP(name string) bool { return net.ParseIP(name) != nil }

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

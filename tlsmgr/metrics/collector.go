package metrics

import (
	"crypto/x509"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// DefaultNamespace prefixes every metric name when Config.Namespace is empty.
const DefaultNamespace = "nats_autotls"

// DefaultLockWaitThreshold is the Lock duration above which an acquisition
// counts as a wait when Config.LockWaitThreshold is zero.
const DefaultLockWaitThreshold = time.Second

// A Source is what the Collector reads at each scrape; *tlsmgr.Manager is
// one. If it also has a CACertificate() *x509.Certificate method, the
// private CA's expiry is exported too.
type Source interface {
	Status() []tlsmgr.CertStatus
}

// Config configures a [Collector]. The zero Config is usable.
type Config struct {
	// Namespace prefixes every metric name. Empty means DefaultNamespace
	// ("nats_autotls").
	Namespace string

	// ConstLabels are added to every metric, for example to tell apart
	// two Managers of one process. Nil means none.
	ConstLabels prometheus.Labels

	// Source is read at each scrape. Nil means none until
	// [Collector.SetSource] is called.
	Source Source

	// Listeners, if not nil, is called at each scrape and returns when the
	// certificate each listener serves expires, keyed by listener name (as
	// natsopts.Expiry returns). Nil means no listener metric.
	Listeners func() map[string]time.Time

	// Classify maps a failure to the reason label of
	// nats_autotls_failures_total. It must return a short, low-cardinality
	// string. Nil means [FailureReason].
	Classify func(error) string

	// LockWaitThreshold is how long Storage.Lock may take before the
	// acquisition counts in nats_autotls_lock_waits_total. Zero means
	// DefaultLockWaitThreshold (1 second).
	LockWaitThreshold time.Duration

	// Now is the clock for lock waits. Nil means time.Now. Order durations
	// use the times of the Manager's events.
	Now func() time.Time
}

// A Collector is a prometheus.Collector for one certificate source. Its
// gauges come from one Status snapshot per scrape; its counters and
// histograms from [Collector.Observe], [Collector.Storage] and
// [Collector.ObserveRotation]. A Collector is safe for concurrent use.
type Collector struct {
	cfg Config
	src atomic.Pointer[sourceBox]

	certGauges     []certGauge
	served         *prometheus.Desc
	issuedBy       *prometheus.Desc
	failing        *prometheus.Desc
	listenerExpiry *prometheus.Desc
	caExpiry       *prometheus.Desc

	orders, renewals, failures, rejected, rateLimitWaits *prometheus.CounterVec
	lockWaits, lockFailures                              prometheus.Counter
	orderDuration, rotation                              *prometheus.HistogramVec
	lockWait                                             prometheus.Histogram

	// mu guards pending.
	mu sync.Mutex
	// pending holds the start of each order in flight, by roles label.
	pending map[string]time.Time
}

// sourceBox boxes a Source for an atomic pointer.
type sourceBox struct{ Source }

// certGauge is a timestamp gauge taken from a CertStatus field.
type certGauge struct {
	desc *prometheus.Desc
	get  func(tlsmgr.CertStatus) time.Time
}

// certLabels label every per-certificate metric.
var certLabels = []string{"roles", "name", "issuer"}

// New returns a Collector; register it with prometheus.Registerer.Register.
func New(cfg Config) *Collector {
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.Classify == nil {
		cfg.Classify = FailureReason
	}
	if cfg.LockWaitThreshold <= 0 {
		cfg.LockWaitThreshold = DefaultLockWaitThreshold
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Collector{cfg: cfg, pending: make(map[string]time.Time)}
	c.buildGauges()
	c.buildCounters()
	if cfg.Source != nil {
		c.SetSource(cfg.Source)
	}
	return c
}

// desc builds a description with the Collector's namespace and constant
// labels.
func (c *Collector) desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(c.cfg.Namespace+"_"+name, help, labels, c.cfg.ConstLabels)
}

func (c *Collector) buildGauges() {
	stamp := func(name, help string, get func(tlsmgr.CertStatus) time.Time) certGauge {
		return certGauge{desc: c.desc("certificate_"+name+"_timestamp_seconds", help, certLabels...), get: get}
	}
	c.certGauges = []certGauge{
		stamp("expiration", "The date after which the served certificate expires (NotAfter), in seconds since the Unix epoch.",
			func(cs tlsmgr.CertStatus) time.Time { return cs.NotAfter }),
		stamp("not_before", "The date before which the served certificate is not valid (NotBefore), in seconds since the Unix epoch.",
			func(cs tlsmgr.CertStatus) time.Time { return cs.NotBefore }),
		stamp("renewal", "When the next renewal attempt is planned, in seconds since the Unix epoch.",
			func(cs tlsmgr.CertStatus) time.Time { return cs.NextRenewal }),
		stamp("ari_window_start", "Start of the renewal window the issuer advised (ACME ARI), in seconds since the Unix epoch.",
			func(cs tlsmgr.CertStatus) time.Time { return cs.ARIWindowStart }),
		stamp("ari_window_end", "End of the renewal window the issuer advised (ACME ARI), in seconds since the Unix epoch.",
			func(cs tlsmgr.CertStatus) time.Time { return cs.ARIWindowEnd }),
		stamp("last_success", "When the served certificate was obtained, in seconds since the Unix epoch.",
			func(cs tlsmgr.CertStatus) time.Time { return cs.LastSuccess }),
	}
	c.served = c.desc("certificate_served", "1 if a certificate is served to handshakes, 0 while there is none.", certLabels...)
	c.issuedBy = c.desc("certificate_issued_by_info", "1, labelled with the issuer that issued the served certificate: issuer itself, or the member of a fallback chain (tlsmgr.Config.Issuers).", append(slices.Clone(certLabels), "issued_by")...)
	c.failing = c.desc("certificate_consecutive_failures", "Failed attempts to obtain the certificate since the last success.", certLabels...)
	c.listenerExpiry = c.desc("listener_expiration_timestamp_seconds",
		"The date after which the certificate a listener serves expires, in seconds since the Unix epoch.", "listener")
	c.caExpiry = c.desc("private_ca_expiration_timestamp_seconds",
		"The date after which the private CA's signing certificate expires, in seconds since the Unix epoch.", "subject")
}

func (c *Collector) buildCounters() {
	ns, cl := c.cfg.Namespace, c.cfg.ConstLabels
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: cl}, labels)
	}
	c.orders = counter("orders_total", "Orders (or signing requests) started for a certificate.", certLabels...)
	c.renewals = counter("renewals_total", "Certificates renewed: issued to replace a served one.", certLabels...)
	c.failures = counter("failures_total", "Failed attempts to obtain, store or load a certificate, by reason.", append(certLabels, "reason")...)
	c.rejected = counter("rejected_total", "Certificates refused by validation: neither served nor stored.", certLabels...)
	c.rateLimitWaits = counter("rate_limit_waits_total", "Failures after which the Manager waits for the issuer's Retry-After.", certLabels...)
	c.lockWaits = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "lock_waits_total", ConstLabels: cl,
		Help: "Storage lock acquisitions that waited longer than the wait threshold for another holder."})
	c.lockFailures = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "lock_failures_total", ConstLabels: cl,
		Help: "Storage lock requests that failed or were cancelled."})
	c.lockWait = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "lock_wait_seconds", ConstLabels: cl,
		Help:    "Time taken to acquire a storage lock.",
		Buckets: []float64{.001, .01, .1, 1, 10, 60, 300}})
	c.orderDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "order_duration_seconds", ConstLabels: cl,
		Help:    "Time from the start of an order to the new certificate being served (result success) or to its failure.",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}}, []string{"issuer", "result"})
	c.rotation = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "rotation_duration_seconds", ConstLabels: cl,
		Help:    "Time from a new certificate being installed to a server serving it (export, reload and confirmation for an external server).",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"roles"})
}

// SetSource sets the source read at each scrape, replacing any earlier one.
func (c *Collector) SetSource(s Source) {
	if s == nil {
		c.src.Store(nil)
		return
	}
	c.src.Store(&sourceBox{s})
}

// collectors are the Collector's own metric vectors.
func (c *Collector) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.orders, c.renewals, c.failures, c.rejected, c.rateLimitWaits,
		c.lockWaits, c.lockFailures, c.lockWait, c.orderDuration, c.rotation}
}

// Describe sends the descriptions of every metric the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range c.certGauges {
		ch <- g.desc
	}
	ch <- c.served
	ch <- c.issuedBy
	ch <- c.failing
	ch <- c.listenerExpiry
	ch <- c.caExpiry
	for _, v := range c.collectors() {
		v.Describe(ch)
	}
}

// Collect reads one snapshot of the source and sends every metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if b := c.src.Load(); b != nil {
		for _, cs := range b.Status() {
			c.collectCert(ch, cs)
		}
		c.collectCA(ch, b.Source)
	}
	if c.cfg.Listeners != nil {
		for name, t := range c.cfg.Listeners() {
			ch <- prometheus.MustNewConstMetric(c.listenerExpiry, prometheus.GaugeValue, seconds(t), name)
		}
	}
	for _, v := range c.collectors() {
		v.Collect(ch)
	}
}

// collectCert sends the gauges of one certificate and makes sure its
// counters exist from the first scrape, at zero.
func (c *Collector) collectCert(ch chan<- prometheus.Metric, cs tlsmgr.CertStatus) {
	lv := labelValues(cs.Roles, cs.Names, cs.Issuer)
	for _, g := range c.certGauges {
		if t := g.get(cs); !t.IsZero() {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, seconds(t), lv...)
		}
	}
	served := 0.0
	if cs.Served {
		served = 1
	}
	ch <- prometheus.MustNewConstMetric(c.served, prometheus.GaugeValue, served, lv...)
	if cs.Served {
		by := cs.IssuedBy
		if by == "" {
			by = cs.Issuer
		}
		ch <- prometheus.MustNewConstMetric(c.issuedBy, prometheus.GaugeValue, 1, append(lv, by)...)
	}
	ch <- prometheus.MustNewConstMetric(c.failing, prometheus.GaugeValue, float64(cs.Failures), lv...)
	c.orders.WithLabelValues(lv...)
	c.renewals.WithLabelValues(lv...)
}

// collectCA sends the private CA's expiry, if src knows the CA.
func (c *Collector) collectCA(ch chan<- prometheus.Metric, src Source) {
	cs, ok := src.(interface{ CACertificate() *x509.Certificate })
	if !ok {
		return
	}
	if ca := cs.CACertificate(); ca != nil {
		ch <- prometheus.MustNewConstMetric(c.caExpiry, prometheus.GaugeValue, seconds(ca.NotAfter), ca.Subject.CommonName)
	}
}

// labelValues are the per-certificate label values: the roles joined by
// commas, the first name and the issuer.
func labelValues(roles []tlsmgr.Role, names []string, issuer string) []string {
	rs := make([]string, len(roles))
	for i, r := range roles {
		rs[i] = string(r)
	}
	name := ""
	if len(names) > 0 {
		name = names[0]
	}
	return []string{strings.Join(rs, ","), name, issuer}
}

// seconds is t in fractional seconds since the Unix epoch.
func seconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

package metrics

import (
	"strings"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Observe counts a Manager event. Hand it to tlsmgr.Config.OnEvent, or call
// it from your own OnEvent. It never blocks.
func (c *Collector) Observe(ev tlsmgr.Event) {
	lv := labelValues(ev.Roles, ev.Names, ev.Issuer)
	switch ev.Type {
	case tlsmgr.EventObtaining:
		c.orders.WithLabelValues(lv...).Inc()
		c.mu.Lock()
		c.pending[lv[0]] = ev.Time
		c.mu.Unlock()
	case tlsmgr.EventObtained:
		c.finish(lv, ev.Time, "success")
	case tlsmgr.EventRenewed:
		c.renewals.WithLabelValues(lv...).Inc()
		c.finish(lv, ev.Time, "success")
	case tlsmgr.EventRejected:
		c.rejected.WithLabelValues(lv...).Inc()
		c.finish(lv, ev.Time, "failure")
	case tlsmgr.EventFailed:
		c.failures.WithLabelValues(append(lv, c.cfg.Classify(ev.Err))...).Inc()
		if at, ok := retryAt(ev.Err); ok && at.After(ev.Time) {
			c.rateLimitWaits.WithLabelValues(lv...).Inc()
		}
		c.finish(lv, ev.Time, "failure")
	}
}

// finish observes the duration of the order in flight for the roles of lv,
// if any.
func (c *Collector) finish(lv []string, at time.Time, result string) {
	c.mu.Lock()
	start, ok := c.pending[lv[0]]
	delete(c.pending, lv[0])
	c.mu.Unlock()
	if ok {
		c.orderDuration.WithLabelValues(lv[2], result).Observe(max(at.Sub(start), 0).Seconds())
	}
}

// ObserveRotation records that the roles' new certificate took d from being
// installed in the Manager to being served, for servers that pick it up
// asynchronously (an external nats-server reloading exported files). An
// embedded server swaps at once and needs no call.
func (c *Collector) ObserveRotation(roles []tlsmgr.Role, d time.Duration) {
	rs := make([]string, len(roles))
	for i, r := range roles {
		rs[i] = string(r)
	}
	c.rotation.WithLabelValues(strings.Join(rs, ",")).Observe(max(d, 0).Seconds())
}

package acmetest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// RateLimitNextOrders makes the next n newOrder requests fail with HTTP 429
// and an urn:ietf:params:acme:error:rateLimited problem carrying a
// Retry-After header of retryAfter, rounded up to whole seconds. Limited
// requests do not reach Pebble and are not counted by [CA.Orders]. n <= 0
// clears the knob.
func (c *CA) RateLimitNextOrders(n int, retryAfter time.Duration) {
	c.rateLimit.Lock()
	defer c.rateLimit.Unlock()
	c.rateLimit.n, c.rateLimit.retryAfter = max(n, 0), retryAfter
}

// takeRateLimit consumes one rate-limited order, if any is left.
func (c *CA) takeRateLimit() (bool, time.Duration) {
	c.rateLimit.Lock()
	defer c.rateLimit.Unlock()
	if c.rateLimit.n == 0 {
		return false, 0
	}
	c.rateLimit.n--
	return true, c.rateLimit.retryAfter
}

// writeRateLimited answers r with a rateLimited problem, with a fresh nonce
// as Let's Encrypt does.
func (c *CA) writeRateLimited(w http.ResponseWriter, r *http.Request, retryAfter time.Duration) {
	if nonce := c.freshNonce(r); nonce != "" {
		w.Header().Set("Replay-Nonce", nonce)
	}
	secs := int(math.Ceil(retryAfter.Seconds()))
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   "urn:ietf:params:acme:error:rateLimited",
		"detail": fmt.Sprintf("acmetest: too many new orders, retry after %d seconds", secs),
		"status": http.StatusTooManyRequests,
	})
}

// freshNonce asks Pebble for a nonce.
func (c *CA) freshNonce(r *http.Request) string {
	req := httptest.NewRequestWithContext(r.Context(), http.MethodHead, noncePath, nil)
	req.Host = r.Host
	req.Header.Set("User-Agent", "acmetest")
	rec := httptest.NewRecorder()
	c.api.ServeHTTP(rec, req)
	return rec.Header().Get("Replay-Nonce")
}

// SetDown makes the CA unreachable (true) or reachable again (false): while
// down, every request to the ACME API has its connection closed without an
// answer.
func (c *CA) SetDown(down bool) { c.down.Store(down) }

// Orders returns the number of newOrder requests that reached Pebble.
func (c *CA) Orders() int { return int(c.orders.Load()) }

// NewAccounts returns the number of newAccount requests that reached Pebble,
// lookups of an existing account (onlyReturnExisting) included.
func (c *CA) NewAccounts() int { return int(c.accounts.Load()) }

// BadNonces returns the number of requests Pebble rejected with a badNonce
// error (see Options.NonceRejectPercent).
func (c *CA) BadNonces() int { return int(c.badNonces.Load()) }

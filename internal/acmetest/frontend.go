package acmetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Pebble's ACME paths (unexported in wfe).
const (
	newAccountPath = "/sign-me-up"
	newOrderPath   = "/order-plz"
	orderPath      = "/my-order/"
	challengePath  = "/chalZ/"
	finalizePath   = "/finalize-order/"
	noncePath      = "/nonce-plz"

	badNonceType = "urn:ietf:params:acme:error:badNonce"
)

const (
	// settleTimeout bounds how long a challenge or finalize response is held
	// back waiting for Pebble to finish.
	settleTimeout = 5 * time.Second
	// settleTick is the interval at which Pebble's in-memory state is polled
	// while settling; Pebble offers no completion event.
	settleTick = time.Millisecond
)

// serveHTTP is the front handler in front of Pebble's API: fault knobs,
// counters, and the settling that spares lego its 5-second waits.
func (c *CA) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c.received.add(r)
	if c.down.Load() {
		hangUp(w)
		return
	}
	if c.injectFault(w, r) {
		return
	}
	if r.Method != http.MethodPost {
		c.api.ServeHTTP(w, r)
		return
	}
	switch p := r.URL.Path; {
	case p == newAccountPath:
		c.accounts.Add(1)
		c.forward(w, r, nil)
	case p == newOrderPath:
		c.serveNewOrder(w, r)
	case strings.HasPrefix(p, challengePath):
		id := strings.TrimPrefix(p, challengePath)
		c.forward(w, r, func() bool { return c.challengeSettled(id) })
	case strings.HasPrefix(p, finalizePath):
		id := strings.TrimPrefix(p, finalizePath)
		c.forward(w, r, func() bool { return c.orderSettled(id) })
	default:
		c.forward(w, r, nil)
	}
}

// hangUp closes the connection without an answer, as an unreachable CA
// would; where the connection cannot be taken over it answers 503.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	http.Error(w, "acmetest: CA is down", http.StatusServiceUnavailable)
}

// forward passes the POST r to Pebble, counts badNonce answers and, when
// settled is not nil, holds a 200 answer back until settled reports that
// Pebble's asynchronous work is done (or settleTimeout passes).
func (c *CA) forward(w http.ResponseWriter, r *http.Request, settled func() bool) {
	rec := c.record(r)
	if settled != nil && rec.Code == http.StatusOK {
		settle(r.Context(), settled)
	}
	copyResponse(w, rec)
}

// record runs r through Pebble and counts a badNonce answer.
func (c *CA) record(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	c.api.ServeHTTP(rec, r)
	if rec.Code == http.StatusBadRequest && bytes.Contains(rec.Body.Bytes(), []byte(badNonceType)) {
		c.badNonces.Add(1)
	}
	return rec
}

// serveNewOrder applies the rate-limit knob, counts the order, and gives an
// order that names no profile the "default" profile.
func (c *CA) serveNewOrder(w http.ResponseWriter, r *http.Request) {
	if limited, retryAfter := c.takeRateLimit(); limited {
		c.writeRateLimited(w, r, retryAfter)
		return
	}
	c.orders.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "acmetest: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := c.record(r)
	if _, ok := c.profiles["default"]; ok && rec.Code == http.StatusCreated && jwsPayloadProfile(body) == "" {
		c.setDefaultProfile(rec)
	}
	copyResponse(w, rec)
}

// jwsPayloadProfile returns the profile named in a flattened JWS newOrder
// request, or "".
func jwsPayloadProfile(body []byte) string {
	var jws struct {
		Payload string `json:"payload"`
	}
	if json.Unmarshal(body, &jws) != nil {
		return ""
	}
	payload, err := decodeB64URL(jws.Payload)
	if err != nil {
		return ""
	}
	var order struct {
		Profile string `json:"profile"`
	}
	_ = json.Unmarshal(payload, &order)
	return order.Profile
}

// setDefaultProfile switches the order just created (Pebble picked a random
// profile) to "default", in Pebble's database and in the response.
func (c *CA) setDefaultProfile(rec *httptest.ResponseRecorder) {
	loc := rec.Header().Get("Location")
	i := strings.LastIndex(loc, orderPath)
	if i < 0 {
		return
	}
	order := c.db.GetOrderByID(loc[i+len(orderPath):])
	if order == nil {
		return
	}
	order.Lock()
	order.Profile = "default"
	order.Unlock()

	var shown map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &shown) != nil {
		return
	}
	shown["profile"] = "default"
	if b, err := json.MarshalIndent(shown, "", "   "); err == nil {
		rec.Body = bytes.NewBuffer(b)
	}
}

// settle polls settled every settleTick until it returns true, ctx ends or
// settleTimeout passes.
func settle(ctx context.Context, settled func() bool) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	tick := time.NewTicker(settleTick)
	defer tick.Stop()
	for !settled() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// copyResponse writes a recorded response to w.
func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	h := w.Header()
	for k, v := range rec.Header() {
		h[k] = v
	}
	h.Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

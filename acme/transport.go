package acme

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxProblemSize bounds the part of an error answer read for its detail.
const maxProblemSize = 64 << 10

// maxDetail bounds the CA's explanation copied into an error.
const maxDetail = 300

// caTransport is the RoundTripper of lego's HTTP client. lego takes no
// context, so this is where its requests are bounded: each one runs under
// the current order's context and the per-request deadline of [budget].
// It also reads the CA's Retry-After where lego loses it: a 429 or 503
// answer becomes a *RateLimitError or *UnreachableError carrying it, and a
// polling hint (Retry-After on a successful answer) is shortened to the
// budget's poll interval, so that a CA asking for an hour between polls
// cannot keep an order running an hour.
type caTransport struct {
	next http.RoundTripper
	now  func() time.Time
	cur  func() *order // the order in progress, nil between orders
}

// RoundTrip implements http.RoundTripper.
func (t *caTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var cancel context.CancelFunc = func() {}
	o := t.cur()
	if o != nil {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(o.ctx, o.budget.request)
		req = req.WithContext(ctx)
		o.step.set("%s %s", req.Method, req.URL)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		cancel()
		if o != nil && o.ctx.Err() == nil && req.Context().Err() != nil {
			return nil, fmt.Errorf("no answer within %s (Config.OrderTimeout/%d): %w", o.budget.request, requestShare, err)
		}
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		defer cancel()
		return nil, t.refusal(req, resp)
	}
	if o != nil {
		if _, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok && resp.StatusCode < 300 {
			resp.Header.Set("Retry-After", strconv.Itoa(o.budget.pollSeconds(resp.Header.Get("Retry-After"), t.now())))
		}
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// refusal reads a 429 or 503 answer and returns it as a typed error with
// the CA's Retry-After. It closes the body.
func (t *caTransport) refusal(req *http.Request, resp *http.Response) error {
	defer resp.Body.Close()
	now := t.now()
	at := retryAt(resp.Header.Get("Retry-After"), now)
	var problem struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblemSize))
	_ = json.Unmarshal(body, &problem)
	detail := truncate(problem.Detail, maxDetail)
	if detail == "" {
		detail = resp.Status
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &RateLimitError{RetryAfter: at, Detail: detail, err: fmt.Errorf("%s %s: HTTP %s", req.Method, req.URL, resp.Status)}
	}
	return &UnreachableError{URL: req.URL.String(), Status: resp.StatusCode, RetryAfter: at, Err: fmt.Errorf("%s", detail)}
}

// cancelBody ends a request's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

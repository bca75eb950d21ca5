package acmetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Paths of Pebble's ACME API, for [Fault.Path] and [CA.Requests]. Other
// paths (authorizations "/authZ/", certificates "/certZ/", the directory
// "/dir") are Pebble's own.
const (
	DirectoryPath  = "/dir"
	NewAccountPath = newAccountPath
	NewOrderPath   = newOrderPath
	OrderPath      = orderPath
	ChallengePath  = challengePath
	FinalizePath   = finalizePath
	NoncePath      = noncePath
)

// FaultKind is what a [Fault] does to a request.
type FaultKind int

// Kinds of faults.
const (
	// FaultStatus answers Fault.Status with a problem document
	// (urn:ietf:params:acme:error:rateLimited for 429, serverInternal
	// otherwise), a fresh nonce and, if set, Fault.RetryAfter. The request
	// does not reach Pebble.
	FaultStatus FaultKind = iota
	// FaultDrop closes the connection without an answer, as a crashed CA
	// or a broken middlebox would. The request does not reach Pebble.
	FaultDrop
	// FaultHang holds the request without an answer until the client gives
	// up or the CA is shut down. The request does not reach Pebble.
	FaultHang
	// FaultBadNonce answers 400 urn:ietf:params:acme:error:badNonce with a
	// fresh nonce, as a CA does after a restart or when a nonce expired.
	// The request does not reach Pebble.
	FaultBadNonce
	// FaultPoll passes the request to Pebble but answers at once, without
	// waiting for Pebble to finish (a challenge still "processing"), with
	// Fault.RetryAfter as the CA's polling hint.
	FaultPoll
)

// Fault is a fault the front handler injects into requests to the ACME
// API (not the management interface). Install it with [CA.Inject].
type Fault struct {
	// Path selects requests whose URL path starts with it (see
	// [ChallengePath] and the other paths). Empty means every request.
	Path string
	// Method selects requests by method ("POST", "GET", "HEAD"). Empty
	// means every method.
	Method string
	// Times is the number of matching requests the fault applies to, after
	// which it is removed. Zero means every matching request until the
	// function Inject returned is called.
	Times int
	// Kind is what the fault does.
	Kind FaultKind
	// Status is the HTTP status of FaultStatus.
	Status int
	// RetryAfter is the Retry-After header of FaultStatus and FaultPoll,
	// sent verbatim ("3600", an HTTP-date, or nonsense). Empty means none.
	RetryAfter string
}

// faults are the installed faults, in order.
type faults struct {
	mu   sync.Mutex
	list []*Fault
	hang chan struct{} // closed at shutdown, ends FaultHang
}

// Inject installs f: the first installed fault that matches a request
// applies to it. It returns a function that removes f (safe to call more
// than once, and after f was used up).
func (c *CA) Inject(f Fault) (remove func()) {
	fp := &f
	c.faults.mu.Lock()
	c.faults.list = append(c.faults.list, fp)
	c.faults.mu.Unlock()
	return func() { c.faults.drop(fp) }
}

// drop removes f.
func (fs *faults) drop(f *Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, g := range fs.list {
		if g == f {
			fs.list = append(fs.list[:i], fs.list[i+1:]...)
			return
		}
	}
}

// take returns a copy of the fault for r, if any, and uses one of its
// times.
func (fs *faults) take(r *http.Request) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.list {
		if !strings.HasPrefix(r.URL.Path, f.Path) || (f.Method != "" && f.Method != r.Method) {
			continue
		}
		got := *f
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				fs.list = append(fs.list[:i], fs.list[i+1:]...)
			}
		}
		return got, true
	}
	return Fault{}, false
}

// injectFault applies the fault for r, if any, and reports whether r has
// been answered.
func (c *CA) injectFault(w http.ResponseWriter, r *http.Request) bool {
	f, ok := c.faults.take(r)
	if !ok {
		return false
	}
	switch f.Kind {
	case FaultDrop:
		hangUp(w)
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-c.faults.hang:
		}
		hangUp(w)
	case FaultBadNonce:
		c.writeProblem(w, r, http.StatusBadRequest, badNonceType, "acmetest: injected bad nonce", "")
	case FaultStatus:
		typ := "urn:ietf:params:acme:error:serverInternal"
		if f.Status == http.StatusTooManyRequests {
			typ = "urn:ietf:params:acme:error:rateLimited"
		}
		c.writeProblem(w, r, f.Status, typ, fmt.Sprintf("acmetest: injected HTTP %d", f.Status), f.RetryAfter)
	case FaultPoll:
		rec := c.record(r)
		if f.RetryAfter != "" {
			rec.Header().Set("Retry-After", f.RetryAfter)
		}
		copyResponse(w, rec)
	default:
		return false
	}
	return true
}

// writeProblem answers r with an ACME problem document and a fresh nonce.
func (c *CA) writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, detail, retryAfter string) {
	if nonce := c.freshNonce(r); nonce != "" {
		w.Header().Set("Replay-Nonce", nonce)
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": typ, "detail": detail, "status": status})
}

// Request is one request the CA's ACME API received.
type Request struct {
	Method string
	Path   string
}

// requestLog is every request received, in order.
type requestLog struct {
	mu   sync.Mutex
	list []Request
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, Request{Method: r.Method, Path: r.URL.Path})
}

// Requests returns the requests the ACME API received (faulted ones
// included) whose path starts with prefix, in order. An empty prefix
// means all.
func (c *CA) Requests(prefix string) []Request {
	c.received.mu.Lock()
	defer c.received.mu.Unlock()
	var out []Request
	for _, r := range c.received.list {
		if strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

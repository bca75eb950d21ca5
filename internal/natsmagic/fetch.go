package natsmagic

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
)

// Fetcher fetches a natsmagic document from a URL or a config server.
// The zero value is usable. It is safe for concurrent use.
type Fetcher struct {
	// Client sends the requests. Nil means a client with a 10-second
	// timeout per request that follows no redirect to another origin.
	Client *http.Client
	// MaxBytes bounds a response body. Zero means 1 MiB.
	MaxBytes int64
	// Attempts bounds the tries of each request on connection errors and
	// 5xx answers. Zero means 3.
	Attempts int
	// Backoff is the pause before the second try, doubled each time. Zero
	// means 500ms.
	Backoff time.Duration
}

// form is the config server's 202 answer.
type form struct {
	SubmitURL string `json:"submit_url"`
	Nonce     string `json:"nonce"`
}

// reply is the signed nonce POSTed to submit_url.
type reply struct {
	Signature string `json:"signature"`
	Nonce     string `json:"nonce"`
}

// Fetch returns the document at rawURL. With a seed, it runs the config
// server's challenge: GET rawURL/<public key>, and on 202 POST the signed
// nonce to submit_url. Without one, it GETs rawURL. rawURL must be https
// unless insecure. Errors never contain the seed.
func (f *Fetcher) Fetch(ctx context.Context, rawURL, seed string, insecure bool) ([]byte, error) {
	base, err := url.Parse(rawURL)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("env NATS_MAGIC_URL: %q: not an http(s) URL: give the config server's https:// URL", redactURL(rawURL))
	}
	if base.Scheme == "http" && !insecure {
		return nil, fmt.Errorf("env NATS_MAGIC_URL: %s: plain http would expose the configuration and its secrets: use https://, or set NATS_MAGIC_INSECURE=true on a trusted network", redactURL(rawURL))
	}
	if seed == "" {
		body, status, err := f.do(ctx, http.MethodGet, base.String(), nil)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("NATS_MAGIC_URL %s: answered %d: check the URL", redactURL(rawURL), status)
		}
		return body, nil
	}
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		return nil, errors.New("env NATS_MAGIC_SERVER: not an nkey seed: give the seed (SU..., SA..., SN...) whose public key the config server knows")
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, errors.New("env NATS_MAGIC_SERVER: not an nkey seed")
	}
	return f.challenge(ctx, base, kp, pub)
}

// challenge runs the config server's nkey challenge.
func (f *Fetcher) challenge(ctx context.Context, base *url.URL, kp nkeys.KeyPair, pub string) ([]byte, error) {
	target := base.JoinPath(pub).String()
	body, status, err := f.do(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	switch status {
	case http.StatusOK:
		return body, nil
	case http.StatusAccepted:
	default:
		return nil, fmt.Errorf("config server %s: answered %d for public key %s: declare a configuration for this key on the server", redactURL(target), status, pub)
	}
	var fm form
	if err := json.Unmarshal(body, &fm); err != nil || fm.Nonce == "" || fm.SubmitURL == "" {
		return nil, fmt.Errorf("config server %s: a 202 answer without submit_url and nonce: check that the URL is a natsmagic config server", redactURL(target))
	}
	submit, err := base.Parse(fm.SubmitURL)
	if err != nil || !sameOrigin(base, submit) {
		return nil, fmt.Errorf("config server %s: submit_url %q is not on %s: refusing to send the signed nonce elsewhere; check the config server", redactURL(target), fm.SubmitURL, origin(base))
	}
	sig, err := kp.Sign([]byte(fm.Nonce))
	if err != nil {
		return nil, fmt.Errorf("sign the config server's nonce: %w", err)
	}
	payload, _ := json.Marshal(reply{Signature: base64.RawURLEncoding.EncodeToString(sig), Nonce: fm.Nonce})
	body, status, err = f.do(ctx, http.MethodPost, submit.String(), payload)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("config server %s: refused the signed nonce (%d): NATS_MAGIC_SERVER is not the seed of public key %s, or the server does not know it", redactURL(submit.String()), status, pub)
	}
	return body, nil
}

// do sends one request with retries on connection errors and 5xx, and
// returns the bounded body and the status.
func (f *Fetcher) do(ctx context.Context, method, target string, payload []byte) ([]byte, int, error) {
	attempts, backoff := f.Attempts, f.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	var lastErr error
	for i := range attempts {
		if i > 0 {
			t := time.NewTimer(backoff << (i - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, 0, fmt.Errorf("%s %s: %w (last: %v)", method, redactURL(target), ctx.Err(), lastErr)
			case <-t.C:
			}
		}
		body, status, err := f.once(ctx, method, target, payload)
		if err == nil && status < 500 {
			return body, status, nil
		}
		if err == nil {
			err = fmt.Errorf("answered %d", status)
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, 0, fmt.Errorf("%s %s: no answer after %d attempts: %w: check that the config server is up and the URL is right", method, redactURL(target), attempts, lastErr)
}

func (f *Fetcher) once(ctx context.Context, method, target string, payload []byte) ([]byte, int, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, 0, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	max := f.MaxBytes
	if max <= 0 {
		max = 1 << 20
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(b)) > max {
		return nil, 0, fmt.Errorf("answer larger than %d bytes: refusing it", max)
	}
	return b, resp.StatusCode, nil
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || !sameOrigin(via[0].URL, req.URL) {
				return errors.New("redirect to another origin refused")
			}
			return nil
		},
	}
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// redactURL hides the user information of a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("REDACTED")
	return u.String()
}

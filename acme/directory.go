package acme

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// directory is the part of the ACME directory this package reads itself.
type directory struct {
	RenewalInfo string `json:"renewalInfo"`
	Meta        struct {
		Profiles                map[string]string `json:"profiles"`
		ExternalAccountRequired bool              `json:"externalAccountRequired"`
		CAAIdentities           []string          `json:"caaIdentities"`
	} `json:"meta"`
}

// maxDirectorySize bounds the directory document and ARI answers.
const maxDirectorySize = 1 << 20

// directory fetches the CA's directory once; later calls return the copy.
func (i *Issuer) directory(ctx context.Context) (*directory, error) {
	i.dirMu.Lock()
	defer i.dirMu.Unlock()
	if i.dir != nil {
		return i.dir, nil
	}
	var d directory
	if err := i.getJSON(ctx, i.cfg.DirectoryURL, &d, nil); err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) || ctx.Err() != nil {
			return nil, err // already names the URL, or is the context's
		}
		return nil, fmt.Errorf("acme: directory %s: %w", i.cfg.DirectoryURL, err)
	}
	i.dir = &d
	return i.dir, nil
}

// getJSON GETs url and decodes its JSON body into v, within the budget's
// request timeout. A transport error or
// a 5xx status is an *UnreachableError and a 429 a *RateLimitError, both
// with the CA's Retry-After. If header is not nil it receives the response
// headers.
func (i *Issuer) getJSON(parent context.Context, url string, v any, header *http.Header) error {
	ctx, cancel := context.WithTimeout(parent, i.budget.request)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := i.http.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return parent.Err()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s (Config.OrderTimeout/%d): %w", i.budget.request, requestShare, ctx.Err())
		}
		return &UnreachableError{URL: url, Err: err}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		return (&caTransport{now: i.now}).refusal(req, resp)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDirectorySize))
	switch {
	case err != nil:
		return &UnreachableError{URL: url, Err: err}
	case resp.StatusCode >= 500:
		return &UnreachableError{URL: url, Status: resp.StatusCode, Err: fmt.Errorf("HTTP status %s", resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: HTTP status %s", url, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", url, err)
	}
	if header != nil {
		*header = resp.Header
	}
	return nil
}

// httpClient returns the client to talk to the CA with.
func httpClient(cfg *Config) *http.Client {
	if cfg.HTTPClient != nil {
		return cfg.HTTPClient
	}
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			TLSClientConfig:       &tls.Config{RootCAs: cfg.DirectoryRoots, MinVersion: tls.VersionTLS12},
		},
	}
}

package acme

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/certificate"
)

// renewalInfo is an ARI answer (RFC 9773 section 4.2).
type renewalInfo struct {
	SuggestedWindow struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"suggestedWindow"`
}

// RenewalWindow asks the CA when leaf should be renewed (ACME Renewal
// Information, RFC 9773) and returns the suggested window and how long to
// wait before asking again (zero if the CA did not say). A missing, zero
// or inverted window is returned as zero times and a nil error, meaning no
// advice. If the directory offers no renewalInfo endpoint the error
// matches [errors.ErrUnsupported].
//
// It needs no account and does not wait for a running order. It is safe for
// concurrent use.
func (i *Issuer) RenewalWindow(ctx context.Context, leaf *x509.Certificate) (start, end time.Time, retryAfter time.Duration, err error) {
	dir, err := i.directory(ctx)
	if err != nil {
		return start, end, 0, fmt.Errorf("acme: renewal info: %w", err)
	}
	if dir.RenewalInfo == "" {
		return start, end, 0, fmt.Errorf("acme: renewal info: the CA's directory has no renewalInfo endpoint: %w", errors.ErrUnsupported)
	}
	id, err := certificate.MakeARICertID(leaf)
	if err != nil {
		return start, end, 0, fmt.Errorf("acme: renewal info: certificate ID: %w", err)
	}
	var info renewalInfo
	var header http.Header
	url := strings.TrimSuffix(dir.RenewalInfo, "/") + "/" + id
	if err := i.getJSON(ctx, url, &info, &header); err != nil {
		return start, end, 0, fmt.Errorf("acme: renewal info: %w", err)
	}
	retryAfter, _ = parseRetryAfter(header.Get("Retry-After"), i.now())
	start, end = info.window()
	return start, end, retryAfter, nil
}

// window returns the suggested window, or zero times if it is missing,
// zero or inverted (lego would read those as "renew now").
func (r renewalInfo) window() (start, end time.Time) {
	start, end = r.SuggestedWindow.Start, r.SuggestedWindow.End
	if start.IsZero() || end.IsZero() || !end.After(start) {
		return time.Time{}, time.Time{}
	}
	return start, end
}

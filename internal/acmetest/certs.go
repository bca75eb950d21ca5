package acmetest

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Roots returns Pebble's issuance roots (the default chain's and any
// alternate roots), to verify issued chains. They differ per CA.
func (c *CA) Roots(tb testing.TB) *x509.CertPool {
	tb.Helper()
	pool := x509.NewCertPool()
	for i := range c.ca.GetNumberOfRootCerts() {
		pool.AddCert(c.ca.GetRootCert(i).Cert)
	}
	return pool
}

// IntermediatesPEM returns the PEM-encoded intermediate closest to the leaf
// of every chain, default chain first.
func (c *CA) IntermediatesPEM(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	for i := range c.ca.GetNumberOfRootCerts() {
		cert := c.ca.GetIntermediateCert(i)
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: cert.DER}); err != nil {
			tb.Fatalf("acmetest: encode intermediate %d: %v", i, err)
		}
	}
	return buf.Bytes()
}

// RenewNow makes Pebble's ARI answer for leaf a renewal window that lies in
// the past, so that a client renews at once. It fails tb if Pebble does not
// know leaf.
func (c *CA) RenewNow(tb testing.TB, leaf *x509.Certificate) {
	tb.Helper()
	now := time.Now()
	c.SetRenewalWindow(tb, leaf, now.Add(-2*time.Hour), now.Add(-time.Hour))
}

// SetRenewalWindow makes Pebble's ARI answer for leaf the window from start
// to end, through Pebble's management endpoint /set-renewal-info/. It
// fails tb if Pebble does not know leaf.
func (c *CA) SetRenewalWindow(tb testing.TB, leaf *x509.Certificate, start, end time.Time) {
	tb.Helper()
	window, err := json.Marshal(map[string]any{
		"suggestedWindow": map[string]time.Time{"start": start.UTC(), "end": end.UTC()},
	})
	if err != nil {
		tb.Fatalf("acmetest: set renewal window: %v", err)
	}
	body, err := json.Marshal(map[string]string{
		"Certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})),
		"ARIResponse": string(window),
	})
	if err != nil {
		tb.Fatalf("acmetest: set renewal window: %v", err)
	}
	if err := c.postManagement("/set-renewal-info/", body); err != nil {
		tb.Fatalf("acmetest: set renewal window for serial %x: %v", leaf.SerialNumber, err)
	}
}

// postManagement POSTs body to Pebble's management interface.
func (c *CA) postManagement(path string, body []byte) error {
	resp, err := c.HTTPClient.Post(c.ManagementURL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, msg)
	}
	return nil
}

// Replaced reports whether Pebble recorded leaf as replaced: a later order
// naming it in "replaces" (ARI) was finalized. Finalize responses are held
// until this is recorded, so it is accurate as soon as the replacing
// certificate has been obtained.
func (c *CA) Replaced(leaf *x509.Certificate) bool {
	replaced, _ := c.replacedBySerial(hex.EncodeToString(leaf.SerialNumber.Bytes()))
	return replaced
}

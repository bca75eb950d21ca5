package acmetest

import (
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/letsencrypt/pebble/v2/acme"
)

// challengeSettled reports whether Pebble has finished validating the
// challenge id (or does not know it).
func (c *CA) challengeSettled(id string) bool {
	chal := c.db.GetChallengeByID(id)
	if chal == nil {
		return true
	}
	chal.RLock()
	defer chal.RUnlock()
	return chal.Status != acme.StatusProcessing
}

// orderSettled reports whether Pebble has finished finalizing the order id:
// the certificate is issued, indexed by serial, and the certificate it
// replaces (if any) is marked replaced.
func (c *CA) orderSettled(id string) bool {
	order := c.db.GetOrderByID(id)
	if order == nil {
		return true
	}
	order.RLock()
	status, cert, replaces := order.Status, order.CertificateObject, order.Replaces
	order.RUnlock()
	switch {
	case status == acme.StatusInvalid:
		return true
	case cert == nil:
		return false
	}
	if _, err := c.db.GetOrderByIssuedSerial(cert.ID); err != nil {
		return false
	}
	if replaces == "" {
		return true
	}
	replaced, known := c.replacedBySerial(certIDSerialHex(replaces))
	return replaced || !known
}

// replacedBySerial reports whether the certificate with Pebble serial ID
// serialHex (hex of the serial's big-endian bytes) is marked replaced, and
// whether Pebble knows it at all.
func (c *CA) replacedBySerial(serialHex string) (replaced, known bool) {
	order, err := c.db.GetOrderByIssuedSerial(serialHex)
	if err != nil {
		return false, false
	}
	order.RLock()
	defer order.RUnlock()
	return order.IsReplaced, true
}

// certIDSerialHex extracts the serial from an ARI certificate ID
// ("base64url(AKI).base64url(serial)") the way Pebble's core.NewCertID does.
func certIDSerialHex(certID string) string {
	_, serial, ok := strings.Cut(certID, ".")
	if !ok {
		return ""
	}
	b, err := decodeB64URL(serial)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// decodeB64URL decodes unpadded (or padded) base64url.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

package acmetest

import (
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/letsencrypt/pebble/v2/acme"
	"github.com/letsencrypt/pebble/v2/core"
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
	c.aliasDERSerial(order, cert)
	if replaces == "" {
		return true
	}
	replaced, known := c.replacedBySerial(certIDSerialHex(replaces))
	return replaced || !known
}

// aliasDERSerial works around Pebble v2.10.1 indexing issued orders by the
// hex of the serial's minimal big-endian bytes while it looks up an ARI
// "replaces" by the hex of the DER INTEGER's content, which starts with a 0x00
// byte when the top bit is set (about one serial in 256): such a renewal
// failed with "could not find an order for the given certificate". It
// indexes the order under both forms; Let's Encrypt has no such bug.
func (c *CA) aliasDERSerial(order *core.Order, cert *core.Certificate) {
	der, err := asn1.Marshal(cert.Cert.SerialNumber)
	if err != nil || len(der) < 3 {
		return
	}
	derHex := hex.EncodeToString(der[2:])
	if derHex == cert.ID {
		return
	}
	if _, err := c.db.GetOrderByIssuedSerial(derHex); err == nil {
		return
	}
	order.Lock()
	defer order.Unlock()
	orig := order.CertificateObject
	alias := *orig
	alias.ID = derHex
	order.CertificateObject = &alias
	_ = c.db.AddOrderByIssuedSerial(order) // keyed by CertificateObject.ID
	order.CertificateObject = orig
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

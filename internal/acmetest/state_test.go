package acmetest

import (
	"crypto/x509"
	"math/big"
	"testing"

	"github.com/letsencrypt/pebble/v2/core"
	"github.com/stretchr/testify/require"
)

// A serial whose top bit is set is found by the DER form ARI uses too.
func TestAliasDERSerial(t *testing.T) {
	c := New(t, Options{})
	serial := big.NewInt(0x80ab)
	order := &core.Order{CertificateObject: &core.Certificate{ID: "80ab", Cert: &x509.Certificate{SerialNumber: serial}}}
	require.NoError(t, c.db.AddOrderByIssuedSerial(order))

	c.aliasDERSerial(order, order.CertificateObject)

	got, err := c.db.GetOrderByIssuedSerial("0080ab")
	require.NoError(t, err)
	require.Same(t, order, got)
	require.Equal(t, "80ab", order.CertificateObject.ID, "the order keeps its own certificate ID")
}

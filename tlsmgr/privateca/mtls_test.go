package privateca_test

import (
	"testing"

	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// TestMutualTLSSharedCA: two nodes whose CA values come from one PEM pair
// (a cluster sharing its CA) accept each other as route peers both ways; a
// node from another CA is refused both as client and as server.
func TestMutualTLSSharedCA(t *testing.T) {
	certPEM, keyPEM := gen(t, "cluster CA", 0)
	a := nodeOf(t, newCA(t, privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM}))
	b := nodeOf(t, newCA(t, privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM}))
	stranger := nodeOf(t, newCA(t, privateca.Config{}))
	// strangerTrustingA trusts a's CA but presents a leaf a does not trust:
	// only the acceptor side can refuse it.
	strangerTrustingA := nodeOf(t, newCA(t, privateca.Config{Trust: [][]byte{certPEM}}))

	tests := []struct {
		name             string
		dialer, acceptor node
		refusedBy        string // "": accepted
	}{
		{"a dials b", a, b, ""},
		{"b dials a", b, a, ""},
		{"stranger dials a", stranger, a, "dialer"},
		{"a dials stranger", a, stranger, "dialer"},
		{"a dials trusting stranger", a, strangerTrustingA, "dialer"},
		{"stranger trusting a dials a", strangerTrustingA, a, "acceptor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := handshake(t, tt.dialer, tt.acceptor)
			if tt.refusedBy == "" {
				r.requireAccepted(t)
				return
			}
			r.requireRefusedBy(t, tt.refusedBy)
		})
	}
}

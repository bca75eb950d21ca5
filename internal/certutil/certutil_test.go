package certutil_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
)

func TestCovers(t *testing.T) {
	leaf := &x509.Certificate{
		DNSNames:    []string{"nats.example.com", "*.Wild.example.com"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("::1")},
	}
	tests := []struct {
		name string
		want bool
	}{
		{"nats.example.com", true},
		{"NATS.example.com.", true},
		{"other.example.com", false},
		{"a.wild.example.com", true},
		{"a.b.wild.example.com", false},
		{"wild.example.com", false},
		{"*.wild.example.com", true},
		{"*.example.com", false},
		{"10.0.0.1", true},
		{"10.0.0.2", false},
		{"[::1]", true},
		{"::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, certutil.Covers(leaf, tt.name))
		})
	}
}

func TestSplitNames(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		wantDNS []string
		wantIPs []string
	}{
		{"empty", nil, nil, nil},
		{"mixed", []string{"A.Example.com.", "*.example.com", "127.0.0.1", "[::1]"}, []string{"a.example.com", "*.example.com"}, []string{"127.0.0.1", "::1"}},
		{"IPv6 without brackets", []string{"fe80::1"}, nil, []string{"fe80::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns, ips := certutil.SplitNames(tt.in)
			require.Equal(t, tt.wantDNS, dns)
			var got []string
			for _, ip := range ips {
				got = append(got, ip.String())
			}
			require.Equal(t, tt.wantIPs, got)
		})
	}
}

func TestDecodeKey(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pkcs8, err := certutil.EncodeKey(ec)
	require.NoError(t, err)
	sec1DER, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})
	garbage := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("secret-key-bytes")})
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})
	tests := []struct {
		name    string
		data    []byte
		wantErr string // "" for success
	}{
		{"PKCS #8", pkcs8, ""},
		{"SEC 1", sec1, ""},
		{"after a certificate", append(append([]byte{}, cert...), pkcs8...), ""},
		{"no key", cert, "no private key PEM block"},
		{"not PEM", []byte("hello"), "no private key PEM block"},
		{"corrupt", garbage, "cannot parse PRIVATE KEY block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := certutil.DecodeKey(tt.data)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.False(t, strings.Contains(err.Error(), "secret-key-bytes"), "the error quotes the key")
				return
			}
			require.NoError(t, err)
			require.True(t, certutil.KeyMatches(k, ec.Public()))
		})
	}
}

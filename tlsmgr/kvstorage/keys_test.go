package kvstorage

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestEncodeKey(t *testing.T) {
	tests := []struct{ name, key, enc string }{
		{"plain", "accounts/x", "accounts.x"},
		{"dots", "certificates/ca/nats.example.com.json", "certificates.ca.nats=2Eexample=2Ecom=2Ejson"},
		{"equals sign", "a=b", "a=3Db"},
		{"wildcards", "*/>", "=2A.=3E"},
		{"space and unicode", "a b/é", "a=20b.=C3=A9"},
		{"dot segments inside", "a/..b/c.", "a.=2E=2Eb.c=2E"},
		{"underscore and dash kept", "_-/A9", "_-.A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tlsmgr.CheckKey(tt.key))
			require.Equal(t, tt.enc, encodeKey(tt.key))
			got, err := decodeKey(tt.enc)
			require.NoError(t, err)
			require.Equal(t, tt.key, got)
		})
	}
}

func TestDecodeForeignKey(t *testing.T) {
	for _, enc := range []string{"a=2", "a=zz", "a=2e", "=61", "a..b", "a:b", "=2F"} {
		t.Run(enc, func(t *testing.T) {
			_, err := decodeKey(enc)
			require.Error(t, err)
		})
	}
}

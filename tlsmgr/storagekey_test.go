package tlsmgr_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestParentKeys(t *testing.T) {
	for key, want := range map[string][]string{
		"a":                nil,
		"a/b":              {"a"},
		"certificates/x/y": {"certificates", "certificates/x"},
	} {
		require.Equal(t, want, slices.Collect(tlsmgr.ParentKeys(key)), key)
	}
}

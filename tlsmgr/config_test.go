package tlsmgr_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestNewRejectsBadConfig(t *testing.T) {
	mem := tlsmgr.NewMemoryStorage()
	tests := []struct {
		name string
		cfg  tlsmgr.Config
		want string
	}{
		{"bad name", tlsmgr.Config{Storage: mem, Names: []string{"nats example"}}, `Config.Names: "nats example" is neither a DNS name nor an IP address`},
		{"bad key type", tlsmgr.Config{Storage: mem, KeyType: "dsa"}, `Config.KeyType "dsa" is unknown`},
		{"negative interval", tlsmgr.Config{Storage: mem, RenewCheckInterval: -1}, "RenewCheckInterval -1ns is negative"},
		{"negative skew", tlsmgr.Config{Storage: mem, Skew: -1}, "Skew -1ns is negative"},
		{"unknown role", tlsmgr.Config{Storage: mem, Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{"routes": {}}}, `unknown role "routes"`},
		{"role name", tlsmgr.Config{Storage: mem, Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleCluster: {Names: []string{"-bad name"}}}}, "Config.Roles[cluster].Names"},
		{"verify peers on remote", tlsmgr.Config{Storage: mem, Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleLeafnodeRemote: {VerifyPeers: true}}}, "Config.Roles[leafnode-remote].VerifyPeers"},
		{"peer roots on cluster", tlsmgr.Config{Storage: mem, Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleCluster: {PeerRoots: x509.NewCertPool()}}}, "Config.Roles[cluster].PeerRoots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tlsmgr.New(tt.cfg)
			require.Nil(t, m)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestNewDoesNoIO(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	m, err := tlsmgr.New(tlsmgr.Config{})
	require.NoError(t, err)
	require.NoError(t, m.Close())
	_, err = os.Stat(filepath.Join(cache, "nats-autotls"))
	require.ErrorIs(t, err, os.ErrNotExist, "New creates nothing")
	_, err = m.TLSConfig("routes")
	require.ErrorContains(t, err, `unknown role "routes"`)
	require.Error(t, m.Start(testCtx(t)), "a closed Manager does not start")
}

package confpos_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/confpos"
	"github.com/nats-autotls/autotls/natsopts"
)

const sample = `port: 4222
tls {
  verify_and_map: true
}
leaf {
  remotes: [
    { url: "tls://hub-a:7422" }
    {
      url: "tls://hub-b:7422"
      tls: {
        insecure: true
      }
    }
  ]
}
include "gw.conf"
`

const gwSample = `gateway {
  name: A
  tls {
    timeout: -1
  }
}
`

func writeSample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gw.conf"), []byte(gwSample), 0o600))
	path := filepath.Join(dir, "nats.conf")
	require.NoError(t, os.WriteFile(path, []byte(sample), 0o600))
	return path
}

func TestFind(t *testing.T) {
	path := writeSample(t)
	gw := filepath.Join(filepath.Dir(path), "gw.conf")
	for _, tc := range []struct {
		path         string
		file         string
		line         int
		exact, found bool
	}{
		{"tls.verify_and_map", path, 3, true, true},
		{"leafnodes.remotes[1].tls.insecure", path, 11, true, true},
		{"leafnodes.remotes[0].tls.insecure", path, 7, false, true}, // the remote, which has no tls block
		{"gateway.tls.timeout", gw, 4, true, true},
		{"cluster.tls", "", 0, false, false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			pos, exact, ok := confpos.Find(path, tc.path)
			require.Equal(t, tc.found, ok)
			if !ok {
				return
			}
			require.Equal(t, tc.exact, exact)
			require.Equal(t, tc.file, pos.File)
			require.Equal(t, tc.line, pos.Line)
		})
	}
}

func TestAnnotate(t *testing.T) {
	path := writeSample(t)
	ce := &natsopts.ConfigError{Listener: "leafnode remote 1", Option: "LeafNode.Remotes[1].TLSConfig.InsecureSkipVerify", Value: "true",
		Reason: "r", Fix: "f", Conf: "leafnodes.remotes[1].tls.insecure"}
	other := errors.New("unrelated")
	err := confpos.Annotate(errors.Join(ce, other), path)
	var le *confpos.LocatedError
	require.ErrorAs(t, err, &le)
	require.Equal(t, path+":11", le.Pos.String())
	require.Contains(t, err.Error(), path+":11: leafnodes.remotes[1].tls.insecure: natsopts: leafnode remote 1")
	require.ErrorIs(t, err, other)
	var back *natsopts.ConfigError
	require.ErrorAs(t, err, &back, "the ConfigError stays inspectable")
	require.Equal(t, other, confpos.Annotate(other, path))
	require.Equal(t, ce, confpos.Annotate(ce, ""), "no file: unchanged")
}

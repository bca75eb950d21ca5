package cli

import (
	"bytes"
	"flag"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersion(t *testing.T) {
	for name, tc := range map[string]struct {
		info *debug.BuildInfo
		want string
	}{
		"release": {&debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "v1.2.3"}},
			"nats-autotls: v1.2.3\nnats-server: v2.15.2\ngo: go1.27.3\n"},
		"checkout": {&debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "4ac5c28e01f2aaaabbbbccccddddeeeeffff0000"}, {Key: "vcs.time", Value: "2026-11-30T01:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"nats-autotls: (devel) (revision 4ac5c28e01f2, 2026-11-30T01:00:00Z, modified)\n"},
		"no build info": {nil, "nats-autotls: unknown\n"},
	} {
		t.Run(name, func(t *testing.T) {
			require.True(t, strings.HasPrefix(Version(tc.info), tc.want), Version(tc.info))
		})
	}
}

func TestSendSignalRefusesBadInput(t *testing.T) {
	for _, spec := range []string{"bogus", "reload=1=2", "reload=notapid"} {
		require.Error(t, SendSignal(spec), spec)
	}
}

func TestUsageListsOwnFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("autotls_names", "", "Names.")
	fs.Bool("D", false, "Debug.")
	var b bytes.Buffer
	Usage(&b, fs)
	require.Contains(t, b.String(), "    -autotls_names <string>\n        Names.\n")
	require.NotContains(t, b.String(), "Debug.")
}

func TestRedactArgs(t *testing.T) {
	args := []string{"--user", "alice", "--pass", "s3cret", "-autotls_kv_url", "nats://bob:hunter2@kv.example.net:4222",
		"--auth=authtok-42", "-autotls_kv_url=tls://u:p@a:1,tls://b:2",
		"-autotls_dns_setting", "api_token=cf-token-123", "--autotls_dns_setting=zone_file=/run/zone"}
	RedactArgs(args)
	joined := strings.Join(args, " ")
	for _, secret := range []string{"s3cret", "hunter2", "authtok-42", "u:p", "cf-token-123"} {
		require.NotContains(t, joined, secret)
	}
	require.Contains(t, joined, "kv.example.net:4222")
	require.Contains(t, joined, "api_token=[REDACTED]")
	require.Contains(t, joined, "zone_file=/run/zone")
}

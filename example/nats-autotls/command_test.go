package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/cli"
)

func TestCommandLineErrorsExitNonZero(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"unknown flag":     {[]string{"-no_such_flag"}, 2, "-no_such_flag"},
		"bad port":         {[]string{"-p", "abc"}, 2, "-p"},
		"bad bool":         {[]string{"-autotls_agree_tos=maybe"}, 2, "autotls_agree_tos"},
		"unknown command":  {[]string{"frobnicate"}, 1, "frobnicate"},
		"unknown signal":   {[]string{"--signal", "bogus=1"}, 1, "bogus"},
		"check without -c": {[]string{"-t"}, 1, "-c"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), tc.args, &bytes.Buffer{}, nil)
			require.Error(t, err)
			require.Equal(t, tc.code, cli.ExitCode(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestInformationalFlagsPrintAndReturn(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"version":  {[]string{"-v"}, "nats-server: v2."},
		"help":     {[]string{"-h"}, "-autotls_acme"},
		"help_tls": {[]string{"--help_tls"}, "verify_and_map"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run(context.Background(), tc.args, &out, nil))
			require.Contains(t, out.String(), tc.want)
		})
	}
}

func TestCheckConfigWritesNothing(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	require.NoError(t, os.WriteFile(good, []byte("port: 4333\n"), 0o600))
	storage := filepath.Join(dir, "storage")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-t", "-c", good, "-autotls_storage", storage}, &out, nil))
	require.Contains(t, out.String(), "configuration file "+good+" is valid")
	_, err := os.Stat(storage)
	require.ErrorIs(t, err, os.ErrNotExist, "-t created the storage directory")
}

func TestProcessNameIsTheBinarysName(t *testing.T) {
	for arg0, want := range map[string]string{
		"/usr/local/bin/nats-autotls": "nats-autotls",
		"/usr/bin/nats-server":        "nats-server",
		"./nats-autotls":              "nats-autotls",
		"":                            "nats-autotls",
	} {
		require.Equal(t, want, processName(arg0), arg0)
	}
}

// The example --help_tls prints is accepted by -t as printed (with a
// clients.pem in place): a help text must not show a configuration the
// binary refuses.
func TestHelpTLSExampleIsValid(t *testing.T) {
	var help bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--help_tls"}, &help, nil))
	_, example, found := strings.Cut(help.String(), "\nExample:\n")
	require.True(t, found, "no example in --help_tls")
	conf, command, found := strings.Cut(example, "\n    nats-autotls ")
	require.True(t, found, "no command in the example")

	dir := t.TempDir()
	t.Chdir(dir) // the example names clients.pem relative to the config
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-autotls_new_ca", filepath.Join(dir, "clients")}, &out, nil))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nats.conf"), []byte(conf), 0o600))

	args := strings.Fields(strings.ReplaceAll(command, "\\\n", " "))
	args = append(args, "-t", "-autotls_storage", filepath.Join(dir, "storage"))
	out.Reset()
	require.NoError(t, run(context.Background(), args, &out, nil), "nats-autotls %s", strings.Join(args, " "))
	require.Contains(t, out.String(), "is valid")
}

// -t finds a missing -autotls_kv_creds or -autotls_kv_ca file, which a run
// would only find when it dials the bucket.
func TestCheckConfigFindsMissingKVFiles(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	require.NoError(t, os.WriteFile(conf, []byte("port: 4333\n"), 0o600))
	for _, flag := range []string{"-autotls_kv_creds", "-autotls_kv_ca"} {
		missing := filepath.Join(dir, "missing"+flag)
		err := run(context.Background(), []string{"-t", "-c", conf, "-autotls_kv_url", "nats://127.0.0.1:4222", flag, missing}, &bytes.Buffer{}, nil)
		require.Error(t, err, flag)
		require.Contains(t, err.Error(), flag)
		require.Contains(t, err.Error(), missing)
	}
}

// A route URL the cluster's names do not cover is refused with a fix an
// operator can apply (the autotls block), not the Go API's PeerNames.
func TestCheckConfigRouteFixIsForOperators(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(conf, []byte("port: 4333\ncluster { port: 6333, routes: [\"nats-route://nats-2.example.net:6333\"] }\n"), 0o600))
	err := run(context.Background(), []string{"-t", "-c", conf, "-autotls_names", "nats-1.example.net"}, &bytes.Buffer{}, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "nats.conf:2")
	require.Contains(t, err.Error(), "roles { cluster { names:")
	require.NotContains(t, err.Error(), "PeerNames")
}

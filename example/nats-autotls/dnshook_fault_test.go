//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// secretMarker stands for a credential a hook prints (set -x, curl -v).
const secretMarker = "SECRET-dns-token-7f3a9c"

// writeHook writes an executable shell script and returns its path.
func writeHook(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hook")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755))
	return path
}

// execBounded runs the hook's exec in the background and fails the test if
// it has not returned within limit.
func execBounded(t *testing.T, h dnsHook, limit time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- h.exec(context.Background(), "present", "_acme-challenge.a.example.test.", "v4lue") }()
	select {
	case err := <-errc:
		return err
	case <-time.After(limit):
		t.Fatalf("the hook was still waited for after %s", limit)
		return nil
	}
}

// gone reports whether pid has exited (absent, or a zombie not yet
// reaped by its new parent).
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// A hook whose child keeps its output open and never exits: the hook and
// its child are killed at the deadline, and the wait ends with it.
func TestDNSHookKilledWithChildren(t *testing.T) {
	dir := t.TempDir()
	childPID := filepath.Join(dir, "child.pid")
	hook := writeHook(t, fmt.Sprintf("sleep 600 &\necho $! > %q\necho %s\nwait\n", childPID, secretMarker))
	start := time.Now()
	err := execBounded(t, dnsHook{path: hook, timeout: time.Second}, 30*time.Second)
	t.Logf("hook with a lingering child returned after %s", time.Since(start))
	require.Error(t, err)
	require.Contains(t, err.Error(), "dns hook present _acme-challenge.a.example.test.")
	require.Contains(t, err.Error(), "killed with its process group after 1s")
	require.NotContains(t, err.Error(), secretMarker)

	data, rerr := os.ReadFile(childPID)
	require.NoError(t, rerr)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, perr)
	deadline := time.Now().Add(10 * time.Second)
	for !gone(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the kernel delivers SIGKILL asynchronously
	}
	require.True(t, gone(pid), "the hook's child %d outlived the deadline", pid)
}

// A failing hook that prints its credential: the error gives the step,
// the exit status and the command to rerun, never the output.
func TestDNSHookOutputNeverQuoted(t *testing.T) {
	hook := writeHook(t, fmt.Sprintf("echo token=%s\necho Authorization: Bearer %s >&2\nexit 3\n", secretMarker, secretMarker))
	err := execBounded(t, dnsHook{path: hook}, 30*time.Second)
	require.Error(t, err)
	msg := err.Error()
	require.NotContains(t, msg, secretMarker)
	require.Contains(t, msg, "dns hook present _acme-challenge.a.example.test.")
	require.Contains(t, msg, "exit status 3")
	require.Contains(t, msg, "by hand")
	require.Contains(t, msg, hook)
}

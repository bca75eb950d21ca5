//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/bench"
)

// TestShort runs the command's -short mode, the smoke test CI runs: every
// section must run and report, whatever the figures (no thresholds).
func TestShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-short", "-q", "-holders_in_process", "-dir", dir, "-json", out}, strings.NewReader(""), &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	require.Contains(t, stdout.String(), "targets")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep bench.Report
	require.NoError(t, json.Unmarshal(b, &rep))
	var ids []string
	for _, s := range rep.Sections {
		require.NotEmpty(t, s.Rows, "section %s", s.ID)
		ids = append(ids, s.ID)
	}
	require.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7"}, ids)
	require.Len(t, rep.Targets, 6)
	for _, tg := range rep.Targets {
		require.NotEqual(t, "not measured in this run", tg.Measured, tg.Name)
	}
}

func TestUnknownArgument(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"extra"}, strings.NewReader(""), &stdout, &stderr)
	require.ErrorContains(t, err, "unexpected arguments")
}

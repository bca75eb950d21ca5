package natslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSuffix(s.b.String(), "\n"), "\n")
}

func newLog(t *testing.T, o Options) (*Log, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	o.Stderr = &buf
	l, err := New(o)
	require.NoError(t, err)
	return l, &buf
}

// natsLine is nats-server's text line: "[PID] DATE TIME [LVL] message".
var natsLine = regexp.MustCompile(`^\[\d+\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[(INF|WRN|ERR|DBG|TRC|FTL)\] (.*)$`)

func TestTextLinesHaveNatsServerFormat(t *testing.T) {
	l, buf := newLog(t, Options{Time: true, Debug: true})
	l.Noticef("Server is ready on port %d", 4222)
	logger := slog.New(l.Handler()).With("names", []string{"a.example", "b.example"}).WithGroup("cert")
	logger.Info("tlsmgr: certificate installed", "issuer", "private CA", "err", errors.New("none"))
	logger.Debug("detail", "n", 1)

	lines := buf.lines()
	require.Len(t, lines, 3)
	for _, line := range lines {
		require.Regexp(t, natsLine, line)
	}
	require.Equal(t, "Server is ready on port 4222", natsLine.FindStringSubmatch(lines[0])[2])
	require.Equal(t, `tlsmgr: certificate installed names="[a.example b.example]" cert.issuer="private CA" cert.err=none`,
		natsLine.FindStringSubmatch(lines[1])[2])
	require.Equal(t, "DBG", natsLine.FindStringSubmatch(lines[2])[1])
}

func TestLevelsFollowDebugAndTrace(t *testing.T) {
	for name, tc := range map[string]struct {
		debug, trace bool
		want         []string
	}{
		"default": {want: []string{"INF", "INF"}},
		"-D":      {debug: true, want: []string{"INF", "DBG", "INF", "DBG"}},
		"-V":      {trace: true, want: []string{"INF", "TRC", "INF", "TRC"}},
		"-DV":     {debug: true, trace: true, want: []string{"INF", "DBG", "TRC", "INF", "DBG", "TRC"}},
	} {
		t.Run(name, func(t *testing.T) {
			l, buf := newLog(t, Options{Time: true, Debug: tc.debug, Trace: tc.trace})
			l.Noticef("n")
			l.Debugf("d")
			l.Tracef("t")
			logger := slog.New(l.Handler())
			logger.Info("n")
			logger.Debug("d")
			logger.Log(t.Context(), LevelTrace, "t")
			var got []string
			for _, line := range buf.lines() {
				got = append(got, natsLine.FindStringSubmatch(line)[1])
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestJSONLinesShareKeys(t *testing.T) {
	l, buf := newLog(t, Options{JSON: true, Debug: true, Trace: true, UTC: true})
	l.Noticef("Server is ready")
	l.Tracef("<<- [PING]")
	slog.New(l.Handler()).With("roles", []string{"client"}).WithGroup("g").Warn("tlsmgr: certificate failed", "error", "boom\nsecond line")
	lines := buf.lines()
	require.Len(t, lines, 3)
	levels := []string{"INFO", "TRACE", "WARN"}
	for i, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		for _, k := range []string{"time", "level", "msg"} {
			require.Contains(t, m, k, line)
		}
		require.Equal(t, levels[i], m["level"])
		require.True(t, strings.HasSuffix(m["time"].(string), "Z"), "UTC time: %s", m["time"])
	}
	require.Contains(t, lines[2], `"roles":["client"],"g":{"error":"boom\nsecond line"}`)
}

func TestReopenStartsNewFileAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.log")
	l, err := New(Options{File: path, Time: true})
	require.NoError(t, err)
	defer l.Shutdown()
	l.Noticef("before")
	require.NoError(t, os.Rename(path, path+".1"))
	l.Noticef("still to the renamed file")
	require.NoError(t, l.Reopen())
	slog.New(l.Handler()).Info("after")

	old := readLines(t, path+".1")
	require.Len(t, old, 2)
	cur := readLines(t, path)
	require.Len(t, cur, 2)
	require.Contains(t, cur[0], "File log re-opened")
	require.Contains(t, cur[1], "[INF] after")
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), st.Mode().Perm())
}

func TestSizeLimitRotatesAndPurges(t *testing.T) {
	for _, mode := range []bool{false, true} {
		t.Run(map[bool]string{false: "text", true: "json"}[mode], func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "nats.log")
			l, err := New(Options{File: path, SizeLimit: 200, MaxFiles: 2, JSON: mode})
			require.NoError(t, err)
			defer l.Shutdown()
			for range 20 {
				slog.New(l.Handler()).Info(strings.Repeat("x", 60))
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 2, "the current file and one rotated copy")
			require.Contains(t, strings.Join(readLines(t, path), "\n"), "Rotated log, backup saved as")
		})
	}
}

func TestConfigureChangesLevelAndFile(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	l, err := New(Options{File: a})
	require.NoError(t, err)
	defer l.Shutdown()
	logger := slog.New(l.Handler())
	logger.Debug("hidden")
	require.NoError(t, l.Configure(Options{File: b, Debug: true}))
	logger.Debug("shown")
	require.Empty(t, readLines(t, a))
	require.Len(t, readLines(t, b), 1)
}

func TestFatalCallsOnFatal(t *testing.T) {
	called := false
	l, buf := newLog(t, Options{OnFatal: func() { called = true }})
	l.Fatalf("Error listening on port: %d", 4222)
	require.True(t, called)
	require.Contains(t, buf.lines()[0], "[FTL] Error listening on port: 4222")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestRemoteSyslogGetsBareLinesAtTheirPriority(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	l, err := New(Options{RemoteSyslog: "udp://" + pc.LocalAddr().String()})
	require.NoError(t, err)
	l.Errorf("Error listening on port: %d", 4222)
	slog.New(l.Handler()).Info("tlsmgr: certificate installed", "names", []string{"a.example"})

	buf := make([]byte, 2048)
	var got []string
	for range 2 {
		require.NoError(t, pc.SetReadDeadline(time.Now().Add(10*time.Second)))
		n, _, err := pc.ReadFrom(buf)
		require.NoError(t, err)
		got = append(got, strings.TrimSpace(string(buf[:n])))
	}
	// Priorities as nats-server's remote syslog logger: err 3, notice 5.
	require.Regexp(t, `^<3>.* Error listening on port: 4222$`, got[0])
	require.Regexp(t, `^<5>.* tlsmgr: certificate installed names=\[a.example\]$`, got[1])
	require.NotContains(t, got[1], "[INF]", "syslog adds its own level")
}

func TestNoTimeWithoutLogtime(t *testing.T) {
	l, buf := newLog(t, Options{})
	l.Noticef("hello")
	require.Regexp(t, `^\[\d+\] \[INF\] hello$`, buf.lines()[0])
}

func TestRemoteSyslogJSONKeepsThePriority(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	l, err := New(Options{RemoteSyslog: "udp://" + pc.LocalAddr().String(), JSON: true})
	require.NoError(t, err)
	slog.New(l.Handler()).Warn("tlsmgr: certificate failed", "error", "boom")
	buf := make([]byte, 2048)
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, _, err := pc.ReadFrom(buf)
	require.NoError(t, err)
	require.Regexp(t, `^<4>.*: \{"time":"[^"]+","level":"WARN","msg":"tlsmgr: certificate failed","error":"boom"\}$`, strings.TrimSpace(string(buf[:n])))
}

// Without a local syslog, -s is an error (nats-server's logger exits).
func TestSyslogWithoutDaemonIsAnError(t *testing.T) {
	if checkSyslog() == nil {
		l, err := New(Options{Syslog: true})
		require.NoError(t, err)
		l.Noticef("natslog test line")
		return
	}
	_, err := New(Options{Syslog: true})
	require.ErrorContains(t, err, "syslog (-s)")
}

func TestRemoteSyslogThatCannotBeDialedIsAnError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	_, err = New(Options{RemoteSyslog: "tcp://" + addr})
	require.ErrorContains(t, err, "remote syslog (-r)")
	_, err = New(Options{RemoteSyslog: "ftp://" + addr})
	require.ErrorContains(t, err, `network "ftp"`)
}

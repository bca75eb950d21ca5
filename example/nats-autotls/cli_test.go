package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/internal/testbin"
)

// The built binary as an operator uses it, against nats-server's command
// line: -t, --signal, --profile, -l, -DV, the JSON log and the ready line.

// cliWait bounds each wait on the binary.
const cliWait = 60 * time.Second

// autotlsBinary returns the built nats-autotls (built once per test binary).
func autotlsBinary(t *testing.T) string {
	t.Helper()
	_, bin := parityBinaries(t)
	return bin
}

// runBinary runs the binary to completion and returns its combined output
// and exit code.
func runBinary(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliWait)
	defer cancel()
	out, err := exec.CommandContext(ctx, autotlsBinary(t), args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errorsAs(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("run nats-autotls %v: %v: %s", args, err, out)
	return "", -1
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// waitFileLine polls path until a line containing s appears (count
// times), and returns that line; log files are the only channel when -l
// is set. It fails at once if p (if not nil) exits first.
func waitFileLine(t *testing.T, p *testbin.Process, path, s string, count int) string {
	t.Helper()
	deadline := time.After(cliWait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var exited <-chan struct{}
	if p != nil {
		exited = p.Done()
	}
	for {
		n := 0
		for _, l := range fileLines(t, path) {
			if strings.Contains(l, s) {
				if n++; n == count {
					return l
				}
			}
		}
		select {
		case <-tick.C:
		case <-exited:
			exited = nil // one more look at the file, then fail
			if n := strings.Count(strings.Join(fileLines(t, path), "\n"), s); n < count {
				t.Fatalf("nats-autotls exited before logging %q:\n%s\n%s", s, p.Output(), strings.Join(fileLines(t, path), "\n"))
			}
		case <-deadline:
			t.Fatalf("no line %q (#%d) in %s within %v", s, count, path, cliWait)
		}
	}
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitExit waits for p to exit and returns its exit code.
func waitExit(t *testing.T, p *testbin.Process) int {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(cliWait):
		t.Fatalf("nats-autotls did not exit within %v", cliWait)
	}
	// Done closes once the output is read; Wait has returned by then or
	// is about to.
	require.Eventually(t, func() bool { return p.Cmd.ProcessState != nil }, cliWait, time.Millisecond)
	return p.Cmd.ProcessState.ExitCode()
}

func TestBinaryCheckConfig(t *testing.T) {
	var requests atomic.Int64
	dir := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer dir.Close()
	ca := acmetest.New(t, acmetest.Options{})

	// The port the configuration names is held by the test: -t must not
	// need it.
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	good := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: %d\nhttps_port: %d\n", port, port))
	bad := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: %d\nauthorization {\n", port))
	refused := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: %d\ntls {\n  insecure: true\n}\n", port))

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{"private CA", []string{"-t", "-c", good}, 0, "nats-autotls: configuration file " + good + " is valid (sha256:"},
		{"ACME (Pebble)", []string{"-t", "-c", good, "-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos", "-autotls_names", "n.example.test"}, 0, "is valid"},
		{"ACME (counting)", []string{"-t", "-c", good, "-autotls_acme", dir.URL + "/dir", "-autotls_agree_tos", "-autotls_names", "n.example.test"}, 0, "is valid"},
		{"syntax error", []string{"-t", "-c", bad}, 1, "nats-autotls: "},
		{"refused TLS setting", []string{"-t", "-c", refused}, 1, "insecure"},
		{"our flags", []string{"-t", "-c", good, "-autotls_acme", ca.DirectoryURL}, 1, "-autotls_agree_tos"},
		{"flags over the file", []string{"-t", "-c", good, "--routes", "nats://127.0.0.1:1"}, 1, "solicited routes require cluster capabilities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storage := filepath.Join(t.TempDir(), "storage")
			out, code := runBinary(t, append(tc.args, "-autotls_storage", storage)...)
			require.Equal(t, tc.code, code, out)
			require.Contains(t, out, tc.output)
			require.NotContains(t, out, "Listening")
			_, err := os.Stat(storage)
			require.ErrorIs(t, err, os.ErrNotExist, "-t wrote to the storage")
		})
	}
	require.Zero(t, ca.Orders(), "orders at the ACME CA")
	require.Zero(t, ca.NewAccounts(), "accounts at the ACME CA")
	require.Zero(t, requests.Load(), "requests to the ACME directory")
}

func TestBinaryFlagsAsNatsServer(t *testing.T) {
	out, code := runBinary(t, "-no_such_flag")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "flag provided but not defined: -no_such_flag")

	out, code = runBinary(t, "-p", "not-a-port")
	require.Equal(t, 2, code, out)

	out, code = runBinary(t, "-v")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^nats-autotls: \S+`, out)
	require.Contains(t, out, "nats-server: v2.15.2")

	out, code = runBinary(t, "--help_tls")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "cert_file, key_file")

	out, code = runBinary(t, "--signal", "reload=999999999")
	require.Equal(t, 1, code, out)
}

// startLogged starts the binary with -l and -P in a fresh directory, with
// extra configuration, and waits for the ready line in the log file.
func startLogged(t *testing.T, conf string, args ...string) (p *testbin.Process, logFile, pidFile string, port int) {
	t.Helper()
	dir := t.TempDir()
	port = freePort(t)
	logFile, pidFile = filepath.Join(dir, "nats.log"), filepath.Join(dir, "nats.pid")
	path := filepath.Join(dir, "nats.conf")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n%s", port, conf), 0o600))
	args = append([]string{"-c", path, "-l", logFile, "-P", pidFile, "-autotls_storage", filepath.Join(dir, "storage")}, args...)
	p = testbin.Start(t, cliWait, autotlsBinary(t), args...)
	waitFileLine(t, p, logFile, "nats-autotls ready", 1)
	return p, logFile, pidFile, port
}

func TestBinarySignalCommands(t *testing.T) {
	conf := "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"100ms\"\n"

	t.Run("reopen", func(t *testing.T) {
		p, logFile, pidFile, _ := startLogged(t, conf)
		require.NoError(t, os.Rename(logFile, logFile+".1"))
		out, code := runBinary(t, "--signal", "reopen="+pidFile)
		require.Equal(t, 0, code, out)
		waitFileLine(t, p, logFile, "File log re-opened", 1)
		require.Contains(t, strings.Join(fileLines(t, logFile+".1"), "\n"), "Server is ready", "the old lines stay in the renamed file")
		require.Empty(t, p.Output(), "with -l nothing goes to stdout or stderr")
	})

	t.Run("reload", func(t *testing.T) {
		p, logFile, pidFile, port := startLogged(t, conf)
		confPath := filepath.Join(filepath.Dir(logFile), "nats.conf")
		require.NoError(t, os.WriteFile(confPath, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n%smax_payload: 65536\n", port, conf), 0o600))
		pid, err := os.ReadFile(pidFile)
		require.NoError(t, err)
		// A bare --signal finds the process by its name, nats-autotls;
		// other tests may run one too, so name the pid if there are more.
		out, code := runBinary(t, "--signal", "reload")
		if strings.Contains(out, "multiple nats-autotls processes") {
			t.Logf("several nats-autotls processes run; signalling pid %s", pid)
			out, code = runBinary(t, "--signal", "reload="+string(pid))
		}
		require.Equal(t, 0, code, out)
		waitFileLine(t, p, logFile, "Reloaded server configuration", 1)
		nc := connectBundle(t, filepath.Join(filepath.Dir(logFile), "storage", "ca-bundle.pem"), fmt.Sprintf("tls://localhost:%d", port))
		require.Equal(t, int64(65536), nc.MaxPayload(), "the reloaded option took effect")
		require.Empty(t, p.Output())
	})

	t.Run("quit", func(t *testing.T) {
		p, logFile, pidFile, _ := startLogged(t, conf)
		out, code := runBinary(t, "--signal", "quit="+pidFile)
		require.Equal(t, 0, code, out)
		require.Equal(t, 0, waitExit(t, p))
		require.Contains(t, strings.Join(fileLines(t, logFile), "\n"), "Server Exiting")
	})

	t.Run("ldm", func(t *testing.T) {
		p, logFile, pidFile, port := startLogged(t, conf)
		nc := connectBundle(t, filepath.Join(filepath.Dir(logFile), "storage", "ca-bundle.pem"), fmt.Sprintf("tls://localhost:%d", port))
		out, code := runBinary(t, "--signal", "ldm="+pidFile)
		require.Equal(t, 0, code, out)
		waitFileLine(t, p, logFile, "Entering lame duck mode, stop accepting new clients", 1)
		// SIGTERM does not cut lame-duck mode short, as in nats-server.
		_, _ = runBinary(t, "--signal", "term="+pidFile)
		require.Equal(t, 0, waitExit(t, p), "exit status after lame-duck mode")
		require.False(t, nc.IsConnected() && nc.Flush() == nil, "the client was moved off")
		require.Contains(t, strings.Join(fileLines(t, logFile), "\n"), "Server Exiting")
	})
}

// connectBundle connects trusting the PEM bundle at path.
func connectBundle(t *testing.T, path, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.RootCAs(path), nats.Timeout(10*time.Second), nats.NoReconnect())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

func TestBinaryProfileRedactsPassword(t *testing.T) {
	prof := freePort(t)
	p, logFile, _, _ := startLogged(t, "", "--profile", strconv.Itoa(prof), "--user", "alice", "--pass", "s3cret-pass")
	waitFileLine(t, p, logFile, "profiling port", 1)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/vars", prof))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), `"cmdline"`)
	require.NotContains(t, string(body), "s3cret-pass")
	require.Contains(t, string(body), "[REDACTED]")
	require.Empty(t, p.Output())
}

func TestBinaryLogFileHoldsEveryLine(t *testing.T) {
	t.Run("text -DV", func(t *testing.T) {
		p, logFile, _, _ := startLogged(t, "", "-DV")
		lines := fileLines(t, logFile)
		natsLine := regexp.MustCompile(`^\[\d+\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[(INF|WRN|ERR|DBG|TRC)\] `)
		text := strings.Join(lines, "\n")
		for _, l := range lines {
			require.Regexp(t, natsLine, l)
		}
		require.Contains(t, text, "[INF] Server is ready")
		require.Contains(t, text, "[INF] tlsmgr: certificate obtained")
		require.Contains(t, text, "[DBG] nats-autotls: serving certificate")
		require.Empty(t, p.Output(), "with -l nothing goes to stdout or stderr")
	})
	t.Run("text without -D", func(t *testing.T) {
		_, logFile, _, _ := startLogged(t, "")
		require.NotContains(t, strings.Join(fileLines(t, logFile), "\n"), "[DBG]")
	})
	t.Run("json", func(t *testing.T) {
		p, logFile, _, _ := startLogged(t, "", "-DV", "-autotls_log_json")
		requireJSONLines(t, fileLines(t, logFile))
		require.Empty(t, p.Output())
	})
}

func TestBinaryJSONOnStderr(t *testing.T) {
	dir := t.TempDir()
	p := testbin.Start(t, cliWait, autotlsBinary(t), "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-D",
		"-autotls_storage", dir, "-autotls_log_json")
	p.WaitFor(t, "nats-autotls ready", 1)
	requireJSONLines(t, strings.Split(p.Output(), "\n"))
}

// requireJSONLines checks that every line is one JSON object with time,
// level and msg, and that the server's and the manager's lines are there.
func requireJSONLines(t *testing.T, lines []string) {
	t.Helper()
	var server, manager, debug bool
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "not one JSON object: %q", l)
		for _, k := range []string{"time", "level", "msg"} {
			require.Contains(t, m, k, l)
		}
		msg := m["msg"].(string)
		server = server || msg == "Server is ready"
		manager = manager || strings.HasPrefix(msg, "tlsmgr: certificate")
		debug = debug || m["level"] == "DEBUG"
	}
	require.True(t, server && manager && debug, "server %v, manager %v, debug %v lines", server, manager, debug)
}

// The ready line's command, run as pasted, connects and publishes.
func TestBinaryTryCommandWorks(t *testing.T) {
	dir := t.TempDir()
	p := testbin.Start(t, cliWait, autotlsBinary(t), "-a", "0.0.0.0", "-p", strconv.Itoa(freePort(t)), "-autotls_storage", dir)
	line := p.WaitFor(t, "nats-autotls ready", 1)
	m := regexp.MustCompile(`try="([^"]+)"`).FindStringSubmatch(line)
	require.NotNil(t, m, line)
	args := strings.Fields(m[1])
	require.Equal(t, []string{"nats", "--tlsca"}, args[:2], m[1])
	require.Equal(t, []string{"pub", "demo", "hi"}, args[len(args)-3:], m[1])
	bundle, url := args[2], args[len(args)-4]
	require.Equal(t, "-s", args[len(args)-5])
	require.NotContains(t, url, "0.0.0.0")
	require.True(t, filepath.IsAbs(bundle), "bundle %s", bundle)

	nc, err := nats.Connect(url, nats.RootCAs(bundle), nats.Timeout(10*time.Second))
	require.NoError(t, err, "the printed command as pasted")
	defer nc.Close()
	sub, err := nc.SubscribeSync("demo")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("demo", []byte("hi")))
	msg, err := sub.NextMsg(10 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hi", string(msg.Data))
}

// With a public (here: ACME) certificate the command does not name the
// private CA's bundle, which cannot verify it. With -D lego's own lines are
// in the one log too.
func TestBinaryTryCommandACME(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	name := fmt.Sprintf("try-%d.example.test", time.Now().UnixNano())
	dir := t.TempDir()
	p := testbin.Start(t, cliWait, autotlsBinary(t), "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-autotls_storage", dir, "-autotls_names", name, "-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos",
		"-autotls_acme_roots", writeDirectoryRoots(t, ca), "-autotls_http01", net.JoinHostPort("127.0.0.1", strconv.Itoa(ca.HTTPPort)), "-D")
	line := p.WaitFor(t, "nats-autotls ready", 1)
	require.Regexp(t, `(?m)^\[\d+\] \S+ \S+ \[DBG\] .*component=lego`, p.Output(), "lego's lines at debug level")
	require.NotContains(t, line, "ca-bundle.pem", "the private CA cannot verify the ACME certificate")
	require.Contains(t, line, "tls://"+name+":")
}

// A reload that moves the log and turns debug on keeps one JSON log: every
// line in both files is JSON, and debug lines follow in the new file.
func TestBinaryReloadMovesTheLog(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	port := freePort(t)
	conf := filepath.Join(dir, "nats.conf")
	write := func(extra string) {
		require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n%s", port, extra), 0o600))
	}
	write(fmt.Sprintf("log_file: %q\n", a))
	p := testbin.Start(t, cliWait, autotlsBinary(t), "-c", conf, "-autotls_storage", filepath.Join(dir, "storage"), "-autotls_log_json")
	waitFileLine(t, p, a, "nats-autotls ready", 1)

	write(fmt.Sprintf("log_file: %q\ndebug: true\n", b))
	require.NoError(t, p.Cmd.Process.Signal(syscall.SIGHUP))
	waitFileLine(t, p, b, `"msg":"reloaded"`, 1)
	nc := connectBundle(t, filepath.Join(dir, "storage", "ca-bundle.pem"), fmt.Sprintf("tls://localhost:%d", port))
	nc.Close()
	waitFileLine(t, p, b, `"level":"DEBUG"`, 1)
	for _, f := range []string{a, b} {
		for _, l := range fileLines(t, f) {
			require.True(t, json.Valid([]byte(l)), "%s: not JSON: %q", f, l)
		}
	}
	require.Empty(t, p.Output())
}

// SIGTERM while the first order runs (the ACME CA is down) stops the
// process at once, with exit status 0.
func TestBinaryStopsWhileStarting(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	ca.SetDown(true)
	p := testbin.Start(t, cliWait, autotlsBinary(t), "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-autotls_storage", t.TempDir(), "-autotls_names", "down.example.test", "-autotls_acme", ca.DirectoryURL,
		"-autotls_agree_tos", "-autotls_acme_roots", writeDirectoryRoots(t, ca))
	p.WaitFor(t, "tlsmgr: certificate", 1)
	require.NoError(t, p.Cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, waitExit(t, p), p.Output())
	require.Contains(t, p.Output(), `Trapped "terminated" signal`)
	require.NotContains(t, p.Output(), "Server is ready")
}

// With -autotls_log_json and no -l, the error that ends the run is one
// JSON line like every other, not repeated as text by main.
func TestBinaryJSONLogFatalErrorIsJSON(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer held.Close()
	out, code := runBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(held.Addr().(*net.TCPAddr).Port),
		"-autotls_log_json", "-autotls_storage", filepath.Join(t.TempDir(), "storage"))
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "stopped after a fatal error")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		require.True(t, json.Valid([]byte(line)), "not a JSON line: %s", line)
	}
}

// A listener that cannot listen: nats-server logs [FTL]; the node shuts
// down cleanly and the process exits 1, with both lines in the -l file.
func TestBinaryPortInUseExits1(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer held.Close()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "nats.log")
	out, code := runBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(held.Addr().(*net.TCPAddr).Port),
		"-l", logFile, "-autotls_storage", filepath.Join(dir, "storage"))
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "fatal error")
	log := strings.Join(fileLines(t, logFile), "\n")
	require.Contains(t, log, "[FTL] Error listening on port")
	require.Contains(t, log, "[ERR] nats-autotls: stopped after a fatal error")
}

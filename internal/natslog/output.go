package natslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	srvlog "github.com/nats-io/nats-server/v2/logger"
	"github.com/nats-io/nats-server/v2/server"
)

// logFileMode is nats-server's mode for a new log file.
const logFileMode = 0o640

// errNotFile is what reopen returns for an output that is not a file.
var errNotFile = errors.New("not a file logger")

// An output is where a Log's lines go.
type output interface {
	// write writes one line, ending in a newline, at level. If the write
	// made a file rotate, it returns the rotated copy's name.
	write(level slog.Level, line []byte) (rotated string)
	// decorated reports whether text lines carry the pid, time and level
	// label (syslog adds its own).
	decorated() bool
	// colored reports whether labels are colored (a terminal).
	colored() bool
	// reopen reopens a file output (errNotFile for others).
	reopen() error
	close() error
}

// newOutput opens the output o names, as nats-server's ConfigureLogger
// picks it.
func newOutput(o Options) (output, error) {
	switch {
	case o.File != "":
		return openFile(o.File, o.SizeLimit, o.MaxFiles)
	case o.RemoteSyslog != "":
		if err := checkSyslogURL(o.RemoteSyslog); err != nil {
			return nil, err
		}
		return &syslogOutput{l: srvlog.NewRemoteSysLogger(o.RemoteSyslog, true, true)}, nil
	case o.Syslog:
		if err := checkSyslog(); err != nil {
			return nil, err
		}
		return &syslogOutput{l: srvlog.NewSysLogger(true, true)}, nil
	case o.Stderr != nil:
		return &writerOutput{w: o.Stderr}, nil
	default:
		return &writerOutput{w: os.Stderr, colors: isTerminal(os.Stderr)}, nil
	}
}

// checkSyslogURL refuses what nats-server's remote syslog logger would
// exit on: a URL it cannot parse or dial.
func checkSyslogURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("natslog: remote syslog %q: %w", s, err)
	}
	switch u.Scheme {
	case "udp", "tcp":
		return checkRemoteSyslog(u.Scheme, u.Host)
	case "unix":
		return checkRemoteSyslog(u.Scheme, u.Path)
	}
	return fmt.Errorf("natslog: remote syslog %q: network %q: use udp://HOST:PORT, tcp://HOST:PORT or unix:///PATH", s, u.Scheme)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writerOutput writes to an io.Writer such as standard error.
type writerOutput struct {
	mu     sync.Mutex // serialises writes
	w      io.Writer
	colors bool
}

func (o *writerOutput) write(_ slog.Level, line []byte) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = o.w.Write(line)
	return ""
}

func (o *writerOutput) decorated() bool { return true }
func (o *writerOutput) colored() bool   { return o.colors }
func (o *writerOutput) reopen() error   { return errNotFile }
func (o *writerOutput) close() error    { return nil }

// syslogOutput writes to syslog through nats-server's syslog logger, at
// the priority of each line's level.
type syslogOutput struct{ l server.Logger }

func (o *syslogOutput) write(level slog.Level, line []byte) string {
	msg := string(bytes.TrimSuffix(line, []byte("\n")))
	switch {
	case level >= LevelFatal:
		o.l.Fatalf("%s", msg)
	case level >= slog.LevelError:
		o.l.Errorf("%s", msg)
	case level >= slog.LevelWarn:
		o.l.Warnf("%s", msg)
	case level >= slog.LevelInfo:
		o.l.Noticef("%s", msg)
	case level >= slog.LevelDebug:
		o.l.Debugf("%s", msg)
	default:
		o.l.Tracef("%s", msg)
	}
	return ""
}

func (o *syslogOutput) decorated() bool { return false }
func (o *syslogOutput) colored() bool   { return false }
func (o *syslogOutput) reopen() error   { return errNotFile }
func (o *syslogOutput) close() error    { return nil }

// fileOutput appends to a file, rotating it past a size as nats-server's
// file logger does.
type fileOutput struct {
	path     string
	limit    int64 // rotate past this size; 0: never
	maxFiles int   // keep this many files; 0: all

	mu   sync.Mutex // guards f and size
	f    *os.File   // nil once closed
	size int64
}

func openFile(path string, limit, maxFiles int64) (*fileOutput, error) {
	f, size, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	o := &fileOutput{path: path, limit: limit, f: f, size: size}
	if maxFiles > 0 && int64(int(maxFiles)) == maxFiles {
		o.maxFiles = int(maxFiles)
	}
	return o, nil
}

// openAppend opens path for appending, creating it, and returns its size.
func openAppend(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, logFileMode)
	if err != nil {
		return nil, 0, fmt.Errorf("natslog: log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("natslog: log file: %w", err)
	}
	return f, st.Size(), nil
}

func (o *fileOutput) write(_ slog.Level, line []byte) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return ""
	}
	n, _ := o.f.Write(line)
	o.size += int64(n)
	if o.limit > 0 && o.size > o.limit {
		return o.rotateLocked()
	}
	return ""
}

// rotateLocked renames the file to a time-stamped copy and starts a new
// one. If the new one cannot be opened, lines keep going to the renamed
// copy.
func (o *fileOutput) rotateLocked() string {
	now := time.Now()
	bak := fmt.Sprintf("%s.%04d.%02d.%02d.%02d.%02d.%02d.%09d", o.path,
		now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), now.Nanosecond())
	if err := os.Rename(o.path, bak); err != nil {
		o.limit *= 2 // as nats-server: try again later
		return ""
	}
	f, size, err := openAppend(o.path)
	if err != nil {
		return ""
	}
	o.f.Close()
	o.f, o.size = f, size
	if o.maxFiles > 0 {
		o.purgeLocked()
	}
	return bak
}

// purgeLocked removes the oldest rotated copies beyond maxFiles-1.
func (o *fileOutput) purgeLocked() {
	dir, base := filepath.Dir(o.path), filepath.Base(o.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var backups []string
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), base+".")
		if e.IsDir() || !ok {
			continue
		}
		if _, err := time.Parse("2006:01:02:15:04:05.999999999", strings.Replace(stamp, ".", ":", 5)); err == nil {
			backups = append(backups, e.Name())
		}
	}
	sort.Strings(backups) // the time stamp sorts oldest first
	for len(backups) > o.maxFiles-1 {
		_ = os.Remove(filepath.Join(dir, backups[0]))
		backups = backups[1:]
	}
}

// reopen closes the file and opens its path again: after logrotate renamed
// it, a new file. If the path cannot be opened, the old file stays.
func (o *fileOutput) reopen() error {
	f, size, err := openAppend(o.path)
	if err != nil {
		return err
	}
	o.mu.Lock()
	old := o.f
	o.f, o.size = f, size
	o.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func (o *fileOutput) decorated() bool { return true }
func (o *fileOutput) colored() bool   { return false }

func (o *fileOutput) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}

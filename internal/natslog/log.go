package natslog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Levels beyond slog's own, for nats-server's trace and fatal lines.
const (
	// LevelTrace is nats-server's trace level (-V), below slog.LevelDebug.
	LevelTrace = slog.Level(-8)
	// LevelFatal is nats-server's fatal level, above slog.LevelError.
	LevelFatal = slog.Level(12)
)

// A Log writes the lines of a nats-server (as its server.Logger) and of
// slog loggers (through Handler) to one destination in one format. It is
// safe for concurrent use.
//
// Log has no Close method on purpose: nats-server closes the logger it
// replaces if it is an io.Closer. Call Shutdown when nothing logs any more.
type Log struct {
	json     bool
	onFatal  func()
	jsonRoot slog.Handler // JSON mode: writes through jsonWriter to the output
	pid      string       // "[PID] ", nats-server's text prefix

	mu sync.Mutex // serialises Reopen, Configure and Shutdown
	st atomic.Pointer[state]
	// rotated is the backup name of a rotation made inside the JSON
	// handler, which cannot log it there (it holds its lock): logged by
	// the next handleJSON.
	rotated atomic.Pointer[string]
}

// state is what a Log writes with; replaced whole by Configure.
type state struct {
	opts Options
	out  output
}

var _ server.Logger = (*Log)(nil)

// New opens the destination o names and returns a Log writing to it.
func New(o Options) (*Log, error) {
	out, err := newOutput(o)
	if err != nil {
		return nil, err
	}
	l := &Log{json: o.JSON, onFatal: o.OnFatal, pid: fmt.Sprintf("[%d] ", os.Getpid())}
	l.st.Store(&state{opts: o, out: out})
	if o.JSON {
		l.jsonRoot = slog.NewJSONHandler(jsonWriter{l}, &slog.HandlerOptions{
			Level:       slog.Level(math.MinInt),
			ReplaceAttr: l.replaceJSON,
		})
	}
	return l, nil
}

// Handler returns an slog.Handler that writes to l. Its records are
// enabled as nats-server's lines are: Info and above always, Debug with
// Options.Debug, LevelTrace with Options.Trace.
func (l *Log) Handler() slog.Handler {
	return &handler{l: l, json: l.jsonRoot}
}

// JSON reports whether l writes JSON lines.
func (l *Log) JSON() bool { return l.json }

// Reopen reopens the log file, so that after logrotate renamed it lines go
// to a new file at the configured path (nats-server's SIGUSR1). It logs
// what it did, as nats-server does; with no log file it does nothing else.
func (l *Log) Reopen() error {
	l.mu.Lock()
	err := l.st.Load().out.reopen()
	l.mu.Unlock()
	switch {
	case errors.Is(err, errNotFile):
		l.Noticef("File log re-open ignored, not a file logger")
		return nil
	case err != nil:
		l.Errorf("File log re-open failed: %v", err)
		return err
	}
	l.Noticef("File log re-opened")
	return nil
}

// Configure applies new options, such as those of a reloaded
// configuration: levels and time format at once, and a new destination if
// it changed (the old one is closed). The format (JSON or text), Stderr
// and OnFatal stay as New set them. On error l is unchanged.
func (l *Log) Configure(o Options) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.st.Load()
	o.JSON, o.Stderr, o.OnFatal = cur.opts.JSON, cur.opts.Stderr, cur.opts.OnFatal
	if cur.opts.sameDestination(o) {
		l.st.Store(&state{opts: o, out: cur.out})
		return nil
	}
	out, err := newOutput(o)
	if err != nil {
		return err
	}
	l.st.Store(&state{opts: o, out: out})
	return cur.out.close()
}

// Shutdown closes the log file, if any. Lines logged afterwards are lost.
func (l *Log) Shutdown() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.Load().out.close()
}

// Noticef writes an info line (nats-server's [INF]).
func (l *Log) Noticef(format string, v ...any) { l.logf(slog.LevelInfo, format, v) }

// Warnf writes a warning line.
func (l *Log) Warnf(format string, v ...any) { l.logf(slog.LevelWarn, format, v) }

// Errorf writes an error line.
func (l *Log) Errorf(format string, v ...any) { l.logf(slog.LevelError, format, v) }

// Fatalf writes a fatal line, then calls Options.OnFatal.
func (l *Log) Fatalf(format string, v ...any) {
	l.logf(LevelFatal, format, v)
	if l.onFatal != nil {
		l.onFatal()
	}
}

// Debugf writes a debug line if Options.Debug.
func (l *Log) Debugf(format string, v ...any) { l.logf(slog.LevelDebug, format, v) }

// Tracef writes a trace line if Options.Trace.
func (l *Log) Tracef(format string, v ...any) { l.logf(LevelTrace, format, v) }

// logf writes one line from nats-server.
func (l *Log) logf(level slog.Level, format string, v []any) {
	st := l.st.Load()
	if !st.enabled(level) {
		return
	}
	msg := fmt.Sprintf(format, v...)
	now := time.Now()
	if l.json {
		_ = l.handleJSON(context.Background(), l.jsonRoot, slog.NewRecord(now, level, msg, 0))
		return
	}
	l.writeText(st, level, now, msg, nil)
}

// enabled reports whether lines at level are written.
func (st *state) enabled(level slog.Level) bool {
	switch {
	case level >= slog.LevelInfo:
		return true
	case level >= slog.LevelDebug:
		return st.opts.Debug
	default:
		return st.opts.Trace
	}
}

// writeText writes a text line: nats-server's "[PID] DATE TIME [LVL] "
// (on outputs that are not syslog), the message, then attrs (rendered as
// " key=value" pairs).
func (l *Log) writeText(st *state, level slog.Level, t time.Time, msg string, attrs []byte) {
	b := make([]byte, 0, 64+len(msg)+len(attrs))
	if st.out.decorated() {
		b = append(b, l.pid...)
		if st.opts.Time {
			if st.opts.UTC {
				t = t.UTC()
			}
			b = t.AppendFormat(b, "2006/01/02 15:04:05.000000 ")
		}
		b = append(b, label(level, st.out.colored())...)
	}
	b = append(b, msg...)
	b = append(b, attrs...)
	b = append(b, '\n')
	l.written(st.out.write(level, b))
}

// written logs a rotation that a write made.
func (l *Log) written(rotated string) {
	if rotated != "" {
		l.Noticef("Rotated log, backup saved as %q", rotated)
	}
}

// label is nats-server's level label, colored as on its terminal output.
func label(level slog.Level, colored bool) string {
	name, color := "INF", "32"
	switch {
	case level >= LevelFatal:
		name, color = "FTL", "31"
	case level >= slog.LevelError:
		name, color = "ERR", "31"
	case level >= slog.LevelWarn:
		name, color = "WRN", "0;93"
	case level >= slog.LevelInfo:
	case level >= slog.LevelDebug:
		name, color = "DBG", "36"
	default:
		name, color = "TRC", "33"
	}
	if colored {
		return "[\x1b[" + color + "m" + name + "\x1b[0m] "
	}
	return "[" + name + "] "
}

// levelName is a level's name in JSON lines.
func levelName(level slog.Level) string {
	switch {
	case level >= LevelFatal:
		return "FATAL"
	case level >= slog.LevelError:
		return "ERROR"
	case level >= slog.LevelWarn:
		return "WARN"
	case level >= slog.LevelInfo:
		return "INFO"
	case level >= slog.LevelDebug:
		return "DEBUG"
	default:
		return "TRACE"
	}
}

// replaceJSON names the levels and applies Options.UTC in JSON lines.
func (l *Log) replaceJSON(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		if lv, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(levelName(lv))
		}
	case slog.TimeKey:
		if l.st.Load().opts.UTC && a.Value.Kind() == slog.KindTime {
			a.Value = slog.TimeValue(a.Value.Time().UTC())
		}
	}
	return a
}

// handleJSON writes r with h, a JSON handler derived from jsonRoot, then
// logs a rotation the write made.
func (l *Log) handleJSON(ctx context.Context, h slog.Handler, r slog.Record) error {
	err := h.Handle(ctx, r)
	if name := l.rotated.Swap(nil); name != nil {
		l.written(*name)
	}
	return err
}

// jsonWriter takes the JSON handler's lines (one per Write) to the output.
type jsonWriter struct{ l *Log }

func (w jsonWriter) Write(p []byte) (int, error) {
	if name := w.l.st.Load().out.write(jsonLevel(p), p); name != "" {
		w.l.rotated.Store(&name)
	}
	return len(p), nil
}

// jsonLevel reads the level of a JSON line back, for syslog's priority.
func jsonLevel(line []byte) slog.Level {
	for _, lv := range []slog.Level{LevelFatal, slog.LevelError, slog.LevelWarn, slog.LevelDebug, LevelTrace} {
		if containsLevel(line, levelName(lv)) {
			return lv
		}
	}
	return slog.LevelInfo
}

func containsLevel(line []byte, name string) bool {
	return bytes.Contains(line, []byte(`"level":"`+name+`"`))
}

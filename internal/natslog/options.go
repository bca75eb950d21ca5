package natslog

import (
	"io"

	"github.com/nats-io/nats-server/v2/server"
)

// Options say where a Log writes and what.
type Options struct {
	// File is the log file. If empty, lines go to RemoteSyslog, else to
	// syslog if Syslog, else to Stderr.
	File string
	// SizeLimit rotates File once it grows past this many bytes: it is
	// renamed FILE.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn and a new one started.
	// Zero means never.
	SizeLimit int64
	// MaxFiles keeps at most this many files (the current one and its
	// rotated copies) when SizeLimit rotates. Zero means no limit.
	MaxFiles int64
	// Syslog writes to the local syslog (the Windows event log on Windows).
	Syslog bool
	// RemoteSyslog is a syslog server URL (udp://, tcp:// or unix://).
	RemoteSyslog string
	// Debug writes debug lines; Trace writes trace lines.
	Debug, Trace bool
	// Time starts text lines with the date and time (nats-server's -T).
	// JSON lines always carry "time".
	Time bool
	// UTC writes times in UTC rather than local time.
	UTC bool
	// JSON writes one JSON object per line instead of text.
	JSON bool
	// Stderr is where lines go without a file or syslog. Nil means
	// os.Stderr, with colored labels if it is a terminal.
	Stderr io.Writer
	// OnFatal is called after a Fatalf line is written (nats-server's
	// logger exits the process there). Nil means nothing more happens.
	OnFatal func()
}

// FromServerOptions returns the Options nats-server's ConfigureLogger
// would use for opts, with JSON as given. NoLog is not honoured here: the
// caller does not create a Log then.
func FromServerOptions(opts *server.Options, json bool) Options {
	return Options{
		File:         opts.LogFile,
		SizeLimit:    opts.LogSizeLimit,
		MaxFiles:     opts.LogMaxFiles,
		Syslog:       opts.Syslog,
		RemoteSyslog: opts.RemoteSyslog,
		Debug:        opts.Debug,
		Trace:        opts.Trace,
		Time:         opts.Logtime,
		UTC:          opts.LogtimeUTC,
		JSON:         json,
	}
}

// sameDestination reports whether o and p write to the same place in the
// same way, so that an output built for one serves the other.
func (o Options) sameDestination(p Options) bool {
	return o.File == p.File && o.SizeLimit == p.SizeLimit && o.MaxFiles == p.MaxFiles &&
		o.Syslog == p.Syslog && o.RemoteSyslog == p.RemoteSyslog && o.Stderr == p.Stderr
}

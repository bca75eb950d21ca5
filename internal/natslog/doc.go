// Package natslog gives nats-server and log/slog one log: one destination,
// one set of levels and one format for the lines of an embedded
// nats-server and those of the code around it (the certificate manager,
// lego, net/http).
//
// # Use
//
// Build a [Log] from the server's options, hand it to the server as its
// logger, and log through [Log.Handler]:
//
//	l, err := natslog.New(natslog.FromServerOptions(opts, false))
//	...
//	s.SetLoggerV2(l, opts.Debug, opts.Trace, opts.TraceVerbose)
//	logger := slog.New(l.Handler())
//
// # Destination
//
// As nats-server decides: the file of -l (log_file), else remote syslog
// (-r), else syslog (-s), else standard error. The file is rotated past
// log_size_limit and old files are purged past logfile_max_num as
// nats-server does; [Log.Reopen] (SIGUSR1) reopens it after logrotate
// renamed it.
//
// # Levels
//
// Notice, warning, error and fatal lines are always written. Debug lines
// (slog's Debug level) only with -D (debug), trace lines ([LevelTrace])
// only with -V (trace), as nats-server's own.
//
// # Format
//
// Text, by default, is nats-server's: "[PID] DATE TIME [INF] message", the
// date and time only with -T (logtime, on by default), in UTC with
// logtime_utc, with colored labels on a terminal; the fields of an slog
// record follow the message as key=value. On syslog the line is the
// message and its fields only.
//
// JSON (Options.JSON) writes one JSON object per line for both, with the
// keys "time", "level" (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) and "msg",
// then the record's fields.
package natslog

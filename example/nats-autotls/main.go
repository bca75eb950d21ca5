// Command nats-autotls is nats-server with managed TLS: it takes every
// nats-server flag and configuration file, and serves every listener they
// enable with certificates that a tlsmgr.Manager obtains and renews.
//
// With no flags it runs a NATS server on port 4222 whose certificates come
// from a local private CA kept in the user cache directory, and writes the
// CA's trust bundle next to it for clients:
//
//	go run ./example/nats-autotls
//	nats --tlsca ~/.cache/nats-autotls/ca-bundle.pem -s tls://localhost:4222 pub demo hi
//
// With -autotls_acme the public listeners (client, websocket, MQTT, leafnode,
// HTTPS monitoring) get certificates from an ACME CA over http-01, while
// routes, gateways and leafnode remotes stay on the private CA, which public
// CAs can no longer replace for mutual TLS. Share one private CA between the
// nodes of a cluster with -autotls_ca_cert and -autotls_ca_key.
//
// Sidecar mode (-autotls_export DIR -autotls_reload_pid PID|FILE
// -autotls_confirm HOST:PORT) runs no server: it keeps the certificate files of
// a nats-server in another process current, signals it to reload, and
// confirms by a handshake that it serves the new certificate.
//
// Flags, signals and logs are nats-server's: -t checks the configuration
// (nats-server's and nats-autotls's) and exits; --signal
// stop|quit|term|reopen|reload|ldm[=PID] signals the running process, named
// nats-autotls; SIGINT and SIGTERM stop the server, SIGUSR2 puts it in
// lame-duck mode, SIGUSR1 reopens the log file, and SIGHUP re-reads the
// configuration file and applies it with managed TLS (never a plain reload,
// which would drop the TLS configuration). The certificate manager logs
// where and as the server does (-l, -s, -r, -D, -V, -DV), in nats-server's
// text format or, with -autotls_log_json, as JSON lines for both.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/nats-autotls/autotls/internal/cli"
	"github.com/nats-autotls/autotls/internal/natslog"
)

func main() {
	setProcessName()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, handledSignals...)
	p := &process{args: os.Args[1:], stdout: os.Stdout, stderr: os.Stderr, signals: sigs, global: true}
	err := p.run(context.Background())
	signal.Stop(sigs)
	if err != nil {
		if !errors.As(err, new(*loggedError)) {
			fmt.Fprintf(os.Stderr, "nats-autotls: %v\n", err)
		}
		os.Exit(cli.ExitCode(err))
	}
}

// loggedError is an error the run already wrote to standard error as a
// JSON log line; main does not print it again as text, so that every line
// of a -autotls_log_json run is one JSON object.
type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

// process is what run needs from the operating system.
type process struct {
	// args are the command-line arguments without the program name. When
	// they are os.Args[1:], run redacts secrets in os.Args as nats-server
	// does.
	args           []string
	stdout, stderr io.Writer
	// signals delivers the signals main subscribed to (handledSignals); nil
	// means none.
	signals <-chan os.Signal
	// global lets run set process-wide state: slog's default logger (which
	// lego logs through).
	global bool
	// ready, if not nil, receives the node once it serves.
	ready chan<- *node
}

// run runs the node that args describe until ctx ends, as process.run does
// with no signals; tests call it.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- *node) error {
	p := &process{args: args, stdout: stderr, stderr: stderr, ready: ready}
	return p.run(ctx)
}

// run does what the command line asks: print the version or help, send a
// signal, check the configuration, write a new CA, or run a node until ctx
// ends or a signal stops it.
func (p *process) run(ctx context.Context) error {
	c, err := parseCommand(p.args)
	if err != nil {
		return err
	}
	switch c.action {
	case actionVersion:
		info, _ := debug.ReadBuildInfo()
		fmt.Fprint(p.stdout, cli.Version(info))
		return nil
	case actionHelp:
		cli.Usage(p.stdout, c.flags)
		return nil
	case actionHelpTLS:
		cli.TLSHelp(p.stdout)
		return nil
	case actionSignal:
		return cli.SendSignal(c.signal)
	}
	if c.action == actionRun || c.action == actionCheck || c.action == actionPersistRecords {
		err := c.loadConfig(ctx, os.Environ())
		defer c.creds.Remove() // natsmagic's leafnode credentials, on every exit
		if err != nil {
			return err
		}
	}
	if err := c.af.check(); err != nil {
		return err
	}
	if c.af.probe != "" {
		return healthProbe(ctx, c.af.probe)
	}
	switch c.action {
	case actionNewCA:
		return writeNewCA(c.af.newCA, p.stderr)
	case actionPersistRecords:
		return printPersistRecords(ctx, &c.af, p.stdout)
	case actionCheck:
		return checkConfig(c, p.stderr)
	}
	cli.RedactArgs(p.args)
	return p.serve(ctx, c)
}

// serve runs a node with the process's log.
func (p *process) serve(ctx context.Context, c *command) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	logs, err := p.openLog(c, func() { cancel(errFatal) })
	if err != nil {
		return err
	}
	defer logs.Shutdown()
	logger := slog.New(logs.Handler())
	if p.global {
		slog.SetDefault(logger) // lego and the log package write there too
	}
	c.af.logSources(logger)
	err = p.serveNode(ctx, func() { cancel(nil) }, c, logs, logger)
	if cause := context.Cause(ctx); err == nil && errors.Is(cause, errFatal) {
		err = cause
	}
	if err != nil {
		logs.Errorf("nats-autotls: %v", err)
		if c.af.logJSON && c.opts.LogFile == "" && !c.opts.Syslog && c.opts.RemoteSyslog == "" {
			err = &loggedError{err}
		}
	}
	return err
}

// errFatal ends a run after nats-server logged a fatal error (a listener
// that cannot listen): the node shuts down cleanly, releasing its locks,
// and the process exits 1 (nats-server's logger exits at once).
var errFatal = errors.New("stopped after a fatal error (see the FTL or FATAL line before)")

// openLog opens the one log of the process: the server's lines and the
// manager's go where the options say (-l, -s, -r, standard error), at the
// levels of -D and -V, in the format -autotls_log_json chooses.
func (p *process) openLog(c *command, onFatal func()) (*natslog.Log, error) {
	o := natslog.FromServerOptions(c.opts, c.af.logJSON)
	if p.stderr != io.Writer(os.Stderr) {
		o.Stderr = p.stderr
	}
	o.OnFatal = onFatal
	return natslog.New(o)
}

// serveNode prepares the node, opens the status port, starts the node,
// and serves until ctx ends, a signal stops it, or the server stops.
func (p *process) serveNode(ctx context.Context, stop func(), c *command, logs *natslog.Log, logger *slog.Logger) error {
	st := newStatus(c.af.healthMargin, c.af.exportDir != "")
	n, err := prepareNode(ctx, c.opts, &c.af, logger, st)
	if err != nil {
		return err
	}
	n.serverLog = logs
	n.autotls = c.reloader(os.Environ())
	defer n.close()
	signals := p.handleSignals(ctx, stop, n, logger, func() { _ = logs.Reopen() })
	defer signals.close()
	if c.af.statusAddr != "" {
		stopStatus, err := st.serve(c.af.statusAddr, logger)
		if err != nil {
			return err
		}
		defer stopStatus()
	}
	if err := n.start(ctx, logger); err != nil {
		if ctx.Err() != nil {
			return nil // stopped by a signal while starting
		}
		return err
	}
	st.setNode(n)
	stopRotations := st.confirmRotations(ctx, n, logger)
	defer stopRotations()
	if p.ready != nil {
		p.ready <- n
	}
	if n.sidecar {
		return runSidecar(ctx, n.manager, &c.af, logger, st.onSync)
	}
	return n.serve(ctx, signals.inLameDuck)
}

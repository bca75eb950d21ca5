package main

import (
	"flag"
	"io"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/cli"
	"github.com/nats-autotls/autotls/internal/config"
	"github.com/nats-autotls/autotls/internal/natsmagic"
)

// action is what a command line asks nats-autotls to do.
type action int

const (
	actionRun            action = iota // run the server (or the sidecar)
	actionCheck                        // -t: check the configuration and exit
	actionVersion                      // -v
	actionHelp                         // -h
	actionHelpTLS                      // --help_tls
	actionSignal                       // --signal: signal a running process and exit
	actionNewCA                        // -autotls_new_ca: write a private CA and exit
	actionPersistRecords               // -autotls_persist_records: print the dns-persist-01 records and exit
)

// command is a parsed command line: nats-server's options (with the
// configuration file applied, and the flags over it, as nats-server does)
// and nats-autotls's own flags.
type command struct {
	action action
	opts   *server.Options // nil for version, help, signal
	af     autoTLSFlags
	signal string        // the --signal argument, for actionSignal
	flags  *flag.FlagSet // every flag, for the help text
	// creds are natsmagic's leafnode credential files, removed on exit;
	// nil if none.
	creds *natsmagic.Creds
	// reloadInput are the configuration's sources, read again on SIGHUP.
	reloadInput config.Input
}

// newFlagSet returns a flag set with nats-autotls's own flags registered;
// server.ConfigureOptions adds nats-server's. It never prints or exits:
// errors are returned.
func newFlagSet(af *autoTLSFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("nats-autotls", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	af.register(fs)
	config.RegisterFlags(fs)
	return fs
}

// parseCommand parses args as nats-server does, next to nats-autotls's own
// flags, without exiting: nats-server's parser exits the process after
// --signal, -v, -h and --help_tls, so --signal is found first by a parse
// that applies nothing, and the others are recorded as the action.
func parseCommand(args []string) (*command, error) {
	sig, err := signalArg(args)
	if err != nil {
		return nil, err
	}
	if sig != "" {
		return &command{action: actionSignal, signal: sig}, nil
	}
	// nats-server refuses unknown top-level fields, the autotls block
	// included; internal/config checks the file strictly itself.
	server.NoErrOnUnknownFields(true)
	c := &command{}
	var asked action
	c.flags = newFlagSet(&c.af)
	parsed, flagTLS, err := managedTLSArgs(args)
	if err != nil {
		return nil, err
	}
	opts, err := server.ConfigureOptions(c.flags, parsed,
		func() { asked = actionVersion }, func() { asked = actionHelp }, func() { asked = actionHelpTLS })
	if err != nil {
		return nil, err
	}
	if c.af.cliTLS, err = flagTLSOf(opts, flagTLS); err != nil {
		return nil, err
	}
	if asked != actionRun {
		c.action = asked
		return c, nil
	}
	if opts.CheckConfig {
		return checkCommand(args)
	}
	c.opts = opts
	if c.af.newCA != "" {
		c.action = actionNewCA
	}
	if c.af.persistRecords {
		c.action = actionPersistRecords
	}
	return c, nil
}

// checkCommand parses args for -t. nats-server's parser returns the
// configuration file alone for -t, before it applies the flags; parsing
// again with -t=false last gives the options a run would use, flags
// included, which is what nats-autotls checks.
func checkCommand(args []string) (*command, error) {
	c := &command{action: actionCheck}
	c.flags = newFlagSet(&c.af)
	parsed, flagTLS, err := managedTLSArgs(args)
	if err != nil {
		return nil, err
	}
	opts, err := server.ConfigureOptions(c.flags, append(parsed[:len(parsed):len(parsed)], "-t=false"),
		func() {}, func() {}, func() {})
	if err != nil {
		return nil, err
	}
	if c.af.cliTLS, err = flagTLSOf(opts, flagTLS); err != nil {
		return nil, err
	}
	opts.CheckConfig = true
	c.opts = opts
	return c, nil
}

// signalArg returns the value of --signal (or -sl) in args, "" if there is
// none. It parses args with every flag registered and applies nothing, so
// an unknown flag or a bad value is reported here, as a cli.UsageError.
func signalArg(args []string) (string, error) {
	var af autoTLSFlags
	fs := newFlagSet(&af)
	if _, err := server.ConfigureOptions(fs, nil, func() {}, func() {}, func() {}); err != nil {
		return "", err
	}
	if err := fs.Parse(args); err != nil {
		return "", cli.UsageError{Err: err}
	}
	return fs.Lookup("signal").Value.String(), nil
}

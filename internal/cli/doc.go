// Package cli holds what the nats-autotls command line does besides
// wiring: sending --signal to a running process, the -v version report and
// the -h and --help_tls texts.
//
// # Signals
//
// [SendSignal] takes nats-server's --signal argument
// (stop|quit|term|reopen|reload|ldm[=PID|=PIDFILE]) and sends the matching
// signal, as nats-server does, to the process named by
// server.SetProcessName (main sets "nats-autotls"). It returns an error
// instead of exiting.
//
// # Version
//
// [Version] reports the module version and VCS revision of the running
// binary (from runtime/debug build information) and the nats-server version
// it embeds.
package cli

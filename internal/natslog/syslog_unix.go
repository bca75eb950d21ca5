//go:build !windows && !plan9 && !wasm

package natslog

import (
	"fmt"
	"log/syslog"
)

// checkSyslog reports an error where nats-server's syslog logger would
// exit the process: no local syslog to connect to.
func checkSyslog() error {
	w, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_NOTICE, "nats-autotls")
	if err != nil {
		return fmt.Errorf("natslog: syslog (-s): %w: run a syslog daemon, or log to a file with -l", err)
	}
	return w.Close()
}

// checkRemoteSyslog is checkSyslog for a remote syslog server (a TCP or
// unix socket that does not answer; UDP always dials).
func checkRemoteSyslog(network, addr string) error {
	w, err := syslog.Dial(network, addr, syslog.LOG_DEBUG, "nats-autotls")
	if err != nil {
		return fmt.Errorf("natslog: remote syslog (-r) %s://%s: %w", network, addr, err)
	}
	return w.Close()
}

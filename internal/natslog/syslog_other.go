//go:build windows || plan9 || wasm

package natslog

// checkSyslog has nothing to check here: nats-server logs to the Windows
// event log.
func checkSyslog() error { return nil }

// checkRemoteSyslog has nothing to check here either.
func checkRemoteSyslog(network, addr string) error { return nil }

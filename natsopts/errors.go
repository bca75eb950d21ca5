package natsopts

import "fmt"

// A ConfigError reports a server option that cannot work with managed TLS,
// or that nats-server would silently break. [Check] and [Apply] return
// them (joined with errors.Join when there are several); use errors.As to
// inspect one.
type ConfigError struct {
	// Listener names the listener: "client", "https", "websocket", "mqtt",
	// "leafnode", "leafnode remote 0", "cluster", "gateway",
	// "gateway remote \"B\"", or "server" for options of the whole server.
	Listener string
	// Option is the server.Options field, e.g. "Cluster.TLSPinnedCerts".
	Option string
	// Value is the offending value as text.
	Value string
	// Reason says why it cannot work.
	Reason string
	// Fix says what to change.
	Fix string
	// Conf is where the option is written in nats.conf, as a path of keys
	// such as "leafnodes.remotes[0].tls.insecure" (an index counts the
	// entries of a list), so that a program that read a configuration file
	// can name its line. Empty if the option has no nats.conf form.
	Conf string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("natsopts: %s: %s = %s: %s: %s", e.Listener, e.Option, e.Value, e.Reason, e.Fix)
}

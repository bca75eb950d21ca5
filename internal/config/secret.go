package config

import (
	"os"
	"strings"
)

// readFunc reads a secret file.
type readFunc func(path string) ([]byte, error)

// assignment is one value of one setting from one source.
type assignment struct {
	key    string // "acme.email", "dns.settings.api_token", "roles.client.names"
	value  any    // string, bool, []string or time.Duration
	source string // "nats.conf:7:3", "env NATS_AUTOTLS_X", "flag -autotls_x"
	secret bool   // read from a secret file
}

// secretFromFile reads the secret of key from the file named by v, with
// one trailing newline (LF or CRLF) trimmed.
func secretFromFile(read readFunc, key string, v any, source string) (assignment, error) {
	path, ok := v.(string)
	if !ok || path == "" {
		return assignment{}, &Error{Source: source, Field: key + "_file", Problem: "is " + typeName(v) + ", not a file name", Fix: "give the path of a file holding the secret"}
	}
	value, err := readSecret(read, path)
	if err != nil {
		return assignment{}, &Error{Source: source, Field: key + "_file", Value: path, Err: err,
			Fix: "make the file readable by this user, or fix the path"}
	}
	if value == "" {
		return assignment{}, &Error{Source: source, Field: key + "_file", Value: path, Problem: "the file is empty",
			Fix: "write the secret in it"}
	}
	return assignment{key: key, value: value, source: source + " (file " + path + ")", secret: true}, nil
}

// readSecret reads a secret file and trims one trailing newline.
func readSecret(read readFunc, path string) (string, error) {
	if read == nil {
		read = os.ReadFile
	}
	b, err := read(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/cli"
)

// cliTLS is the client listener's TLS as nats-server's command-line flags
// --tls, --tlsverify, --tlscert, --tlskey and --tlscacert set it. With a
// certificate (--tlscert/--tlskey) the listener serves those files and is
// not managed, as in nats-server; without one, nats-server refuses the
// flags, and nats-autotls serves its managed certificate under them
// (--tlsverify with --tlscacert requires client certificates from that CA).
//
// nats-server's reload (SIGHUP) keeps no TLS from flags; apply puts it back
// on the re-read options, files read again, so that a reload neither drops
// --tlsverify nor swaps the flags' certificate for a managed one.
type cliTLS struct {
	set       bool // a --tls* flag was given, and not --tls=false
	cert, key string
	ca        string
	verify    bool
}

// tlsFlagNames are the flags cliTLS covers, without their dashes.
var tlsFlagNames = map[string]bool{"tls": true, "tlsverify": true, "tlscert": true, "tlskey": true, "tlscacert": true}

// managedTLSArgs returns args without --tls, --tlsverify and --tlscacert
// when they are given without --tlscert and --tlskey (which nats-server's
// parser would refuse for want of a certificate), and what they set. With
// a certificate, or none of them, args are returned as they are and the
// flags are read from the parsed options by cliTLSFrom.
func managedTLSArgs(args []string) ([]string, cliTLS, error) {
	var c cliTLS
	out := make([]string, 0, len(args))
	found := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !tlsFlagNames[name] {
			out = append(out, a)
			continue
		}
		switch name {
		case "tlscert", "tlskey":
			return args, cliTLS{}, nil // nats-server's own meaning: files
		case "tlscacert":
			if !hasValue {
				if i+1 >= len(args) {
					return nil, cliTLS{}, cli.UsageError{Err: fmt.Errorf("flag needs an argument: -%s", name)}
				}
				i++
				value = args[i]
			}
			c.ca = value
		default: // tls, tlsverify
			on := true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, cliTLS{}, cli.UsageError{Err: fmt.Errorf("invalid boolean value %q for -%s: %w", value, name, err)}
				}
				on = b
			}
			if name == "tls" && !on {
				return args, cliTLS{}, nil // --tls=false: nats-server's meaning
			}
			if name == "tlsverify" {
				c.verify = on
			}
		}
		found = true
	}
	if !found {
		return args, cliTLS{}, nil
	}
	c.set = true
	return out, c, nil
}

// cliTLSFrom returns the flags' TLS recorded in opts by nats-server's
// parser when a certificate was given on the command line.
func cliTLSFrom(opts *server.Options) cliTLS {
	if opts == nil || opts.TLSCert == "" || opts.TLSConfig == nil {
		return cliTLS{}
	}
	return cliTLS{set: true, cert: opts.TLSCert, key: opts.TLSKey, ca: opts.TLSCaCert, verify: opts.TLSVerify}
}

// apply puts the flags' TLS on opts's client listener, as a tls block with
// the same settings would (nats-server's default ciphers and curves, files
// read now). It does nothing if no flag was given.
func (c cliTLS) apply(opts *server.Options) error {
	if !c.set {
		return nil
	}
	var block []string
	if c.cert != "" || c.key != "" {
		block = append(block, fmt.Sprintf("cert_file: %q", c.cert), fmt.Sprintf("key_file: %q", c.key))
	}
	if c.ca != "" {
		block = append(block, fmt.Sprintf("ca_file: %q", c.ca))
	}
	if c.verify {
		block = append(block, "verify: true")
	}
	parsed := &server.Options{}
	if err := parsed.ProcessConfigString("tls {\n" + strings.Join(block, "\n") + "\n}\n"); err != nil {
		return fmt.Errorf("--tls flags: %w", err)
	}
	opts.TLS, opts.TLSVerify = true, c.verify
	opts.TLSCert, opts.TLSKey, opts.TLSCaCert = c.cert, c.key, c.ca
	opts.TLSConfig = parsed.TLSConfig
	return nil
}

// flagTLSOf returns the flags' TLS of a parsed command line: managed, as
// managedTLSArgs found it (then applied to opts now), or with a
// certificate, as nats-server's parser recorded it in opts.
func flagTLSOf(opts *server.Options, managed cliTLS) (cliTLS, error) {
	if !managed.set {
		return cliTLSFrom(opts), nil
	}
	return managed, managed.apply(opts)
}

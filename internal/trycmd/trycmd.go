// Package trycmd writes the client command that nats-autotls prints when
// it is ready: a nats CLI command that works as pasted against the client
// listener actually bound, naming a host the served certificate covers and
// the CA bundle that verifies it (none for a publicly trusted one).
package trycmd

import (
	"crypto/x509"
	"net"
	"strconv"
	"strings"
)

// A Bundle is a PEM file of CA certificates a client could be told to
// trust, and the pool it holds.
type Bundle struct {
	Path  string
	Roots *x509.CertPool
}

// Listener describes the client listener as it serves.
type Listener struct {
	// Addr is the address the listener is bound to (its port is the real
	// one, also when -1 asked for a random port).
	Addr *net.TCPAddr
	// Chain is the certificate chain served, leaf first.
	Chain []*x509.Certificate
	// Bundles are the CA files to try, in order (the private CA's bundle,
	// the ACME CA's roots). The first that verifies Chain is named with
	// --tlsca; if none does and System verifies it, none is needed.
	Bundles []Bundle
	// System is the system's root pool; nil means x509.SystemCertPool.
	System *x509.CertPool
	// HandshakeFirst adds --tlsfirst (handshake_first on the listener).
	HandshakeFirst bool
	// ClientCert adds --tlscert and --tlskey placeholders (verify on the
	// listener).
	ClientCert bool
	// UserPassword and Token add placeholders for the authorization the
	// server requires.
	UserPassword, Token bool
}

// Command returns the command for l, for example
//
//	nats --tlsca /var/lib/nats-autotls/ca-bundle.pem -s tls://localhost:4222 pub demo hi
//
// It never contains a secret: authorization appears as placeholders.
func Command(l Listener) string {
	args := []string{"nats"}
	if b, ok := l.bundle(); ok && b != "" {
		args = append(args, "--tlsca", quote(b))
	} else if !ok {
		args = append(args, "--tlsca", "<the root CA of "+issuerName(l.Chain)+">")
	}
	if l.HandshakeFirst {
		args = append(args, "--tlsfirst")
	}
	if l.ClientCert {
		args = append(args, "--tlscert", "<client.crt>", "--tlskey", "<client.key>")
	}
	if l.UserPassword {
		args = append(args, "--user", "<user>", "--password", "<password>")
	}
	if l.Token {
		args = append(args, "--token", "<token>")
	}
	args = append(args, "-s", URL(l), "pub", "demo", "hi")
	return strings.Join(args, " ")
}

// URL returns tls://HOST:PORT for the listener, HOST being a name the
// leaf covers: the bound host if it does, else for a listener bound to
// every address "localhost" or a loopback address it covers (so the
// command works on this machine), else the leaf's first DNS name or IP.
func URL(l Listener) string {
	return "tls://" + net.JoinHostPort(host(l), strconv.Itoa(l.Addr.Port))
}

func host(l Listener) string {
	if len(l.Chain) == 0 {
		return l.Addr.IP.String()
	}
	leaf := l.Chain[0]
	covers := func(h string) bool { return leaf.VerifyHostname(h) == nil }
	if !l.Addr.IP.IsUnspecified() && covers(l.Addr.IP.String()) {
		return l.Addr.IP.String()
	}
	if l.Addr.IP.IsUnspecified() || l.Addr.IP.IsLoopback() {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			if covers(h) {
				return h
			}
		}
	}
	for _, n := range leaf.DNSNames {
		if !strings.HasPrefix(n, "*.") {
			return n
		}
	}
	if len(leaf.IPAddresses) > 0 {
		return leaf.IPAddresses[0].String()
	}
	return l.Addr.IP.String()
}

// bundle returns the path of the first bundle that verifies the chain, ""
// if the system roots do, and false if nothing here does.
func (l Listener) bundle() (string, bool) {
	if len(l.Chain) == 0 {
		return "", false
	}
	inter := x509.NewCertPool()
	for _, c := range l.Chain[1:] {
		inter.AddCert(c)
	}
	verifies := func(roots *x509.CertPool) bool {
		if roots == nil {
			return false
		}
		_, err := l.Chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err == nil
	}
	for _, b := range l.Bundles {
		if verifies(b.Roots) {
			return b.Path, true
		}
	}
	sys := l.System
	if sys == nil {
		sys, _ = x509.SystemCertPool()
	}
	if verifies(sys) {
		return "", true
	}
	return "", false
}

// issuerName names the issuer of the chain's last certificate.
func issuerName(chain []*x509.Certificate) string {
	if len(chain) == 0 {
		return "the server's certificate"
	}
	last := chain[len(chain)-1]
	if n := last.Issuer.CommonName; n != "" {
		return strconv.Quote(n)
	}
	return last.Issuer.String()
}

// quote quotes a path for a POSIX shell if it needs it.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/trycmd"
	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// readyTimeout bounds the handshake that reads the served certificate
// for the ready line.
const readyTimeout = 5 * time.Second

// logReady logs the ready line: the client URL and a nats command that
// works as pasted against the listener as it serves.
func (n *node) logReady(ctx context.Context, logger *slog.Logger) {
	for _, cs := range n.manager.Status() {
		logger.Debug("nats-autotls: serving certificate", "roles", cs.Roles, "names", cs.Names,
			"issuer", cs.Issuer, "not_after", cs.NotAfter, "next_renewal", cs.NextRenewal)
	}
	s, opts := n.srv(), n.currentOpts()
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		logger.Info("nats-autotls ready", "client_url", s.ClientURL())
		return
	}
	l := trycmd.Listener{
		Addr:           addr,
		Chain:          n.servedChain(ctx, addr, opts, logger),
		Bundles:        n.tryBundles(),
		HandshakeFirst: opts.TLSHandshakeFirst,
		ClientCert:     opts.TLSConfig != nil && opts.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert,
		UserPassword:   opts.Username != "" || len(opts.Users) > 0,
		Token:          opts.Authorization != "",
	}
	logger.Info("nats-autotls ready", "client_url", trycmd.URL(l), "try", trycmd.Command(l))
}

// servedChain reads the certificate chain the client listener serves, by a
// handshake on loopback; if that fails, the managed client certificate.
func (n *node) servedChain(ctx context.Context, addr *net.TCPAddr, opts *server.Options, logger *slog.Logger) []*x509.Certificate {
	dial := *addr
	if dial.IP.IsUnspecified() {
		dial.IP = net.IPv4(127, 0, 0, 1)
		if addr.IP.To4() == nil {
			dial.IP = net.IPv6loopback
		}
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	cs, err := reload.Handshake(ctx, dial.String(), nil, opts.TLSHandshakeFirst)
	if err == nil && len(cs.PeerCertificates) > 0 {
		return cs.PeerCertificates
	}
	logger.Debug("nats-autotls: reading the served certificate", "addr", dial.String(), "error", err)
	cert, _, err := n.manager.Current(tlsmgr.RoleClient)
	if err != nil || cert == nil || cert.Leaf == nil {
		return nil
	}
	chain := []*x509.Certificate{cert.Leaf}
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			chain = append(chain, c)
		}
	}
	return chain
}

// tryBundles are the CA files a client could be told to trust: the
// private CA's bundle, then the ACME directory's roots (a private ACME CA
// such as step-ca signs with the same root).
func (n *node) tryBundles() []trycmd.Bundle {
	var out []trycmd.Bundle
	for _, path := range []string{n.bundlePath, n.acmeRoots} {
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs // the command works from any directory
		}
		pool := x509.NewCertPool()
		if pool.AppendCertsFromPEM(b) {
			out = append(out, trycmd.Bundle{Path: path, Roots: pool})
		}
	}
	return out
}

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
// Signals: SIGINT and SIGTERM stop the server; SIGHUP re-reads the
// configuration file and applies it with managed TLS (never a plain reload,
// which would drop the TLS configuration).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nats-autotls: %v\n", err)
		os.Exit(1)
	}
}

// run starts the node described by args and serves until ctx ends. If ready
// is not nil, it receives the node once it accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- *node) error {
	fs := flag.NewFlagSet("nats-autotls", flag.ExitOnError)
	var af autoTLSFlags
	af.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: nats-autotls [nats-server options] [-autotls_* options]")
		fs.PrintDefaults()
		os.Exit(0)
	}
	opts, err := server.ConfigureOptions(fs, args, server.PrintServerAndExit, fs.Usage, server.PrintTLSHelpAndDie)
	if err != nil {
		return err
	}
	if err := af.check(); err != nil {
		return err
	}
	if af.newCA != "" {
		return writeNewCA(af.newCA, stderr)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: parseLevel(af.logLevel)}))

	n, err := startNode(ctx, opts, &af, logger)
	if err != nil {
		return err
	}
	defer n.close()
	if af.statusAddr != "" {
		stopStatus, err := serveStatus(af.statusAddr, n, logger)
		if err != nil {
			return err
		}
		defer stopStatus()
	}
	stopHUP := n.onHUP(ctx, logger)
	defer stopHUP()
	if ready != nil {
		ready <- n
	}
	if af.exportDir != "" {
		return runSidecar(ctx, n.manager, &af, logger)
	}
	return n.serve(ctx)
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// serve waits until ctx ends or the server stops.
func (n *node) serve(ctx context.Context) error {
	done := make(chan struct{})
	go func() { n.server.WaitForShutdown(); close(done) }()
	select {
	case <-ctx.Done():
		n.server.Shutdown()
		<-done
		return nil
	case <-done:
		return errors.New("server stopped")
	}
}

// onHUP reloads the node on every SIGHUP, in server and sidecar mode
// alike, until ctx ends or the returned function is called.
func (n *node) onHUP(ctx context.Context, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-quit:
				return
			case <-hup:
				if err := n.reload(ctx, logger); err != nil {
					logger.Error("reload failed; still serving the previous configuration", "err", err)
				} else {
					logger.Info("reloaded")
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}

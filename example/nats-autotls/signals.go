package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Signals as nats-server handles them (server/signal.go), for a node that
// runs with NoSigs because only main may handle signals:
//
//	SIGINT (--signal quit)     stop
//	SIGTERM (--signal term)    stop, unless in lame-duck mode
//	SIGHUP (--signal reload)   re-read the configuration, apply it with managed TLS
//	SIGUSR1 (--signal reopen)  reopen the log file
//	SIGUSR2 (--signal ldm)     lame-duck mode, then stop
//
// --signal stop sends SIGKILL, which no process handles.

// signalHandler acts on the signals of one node.
type signalHandler struct {
	n      *node
	stop   func()
	logger *slog.Logger
	reopen func() // reopens the log file; nil: nothing to reopen
	ldm    atomic.Bool
	wg     sync.WaitGroup // lame-duck goroutine
	quit   chan struct{}  // closed by close
	done   chan struct{}  // closed when the handler returns
}

// handleSignals acts on p.signals for n until ctx ends or h.close is
// called.
func (p *process) handleSignals(ctx context.Context, stop func(), n *node, logger *slog.Logger, reopen func()) *signalHandler {
	h := &signalHandler{n: n, stop: stop, logger: logger, reopen: reopen,
		quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.quit:
				return
			case sig := <-p.signals:
				h.handle(ctx, sig)
			}
		}
	}()
	return h
}

// close stops handling signals and waits for the handler, and for a
// lame-duck shutdown it started, to finish.
func (h *signalHandler) close() {
	close(h.quit)
	<-h.done
	h.wg.Wait()
}

// inLameDuck reports whether SIGUSR2 put the server in lame-duck mode.
func (h *signalHandler) inLameDuck() bool { return h.ldm.Load() }

// trapped logs a signal as nats-server does.
func (h *signalHandler) trapped(sig os.Signal) {
	h.logger.Info("Trapped \"" + sig.String() + "\" signal")
}

// reload is SIGHUP.
func (h *signalHandler) reload(ctx context.Context) {
	if err := h.n.reload(ctx, h.logger); err != nil {
		h.logger.Error("reload failed; still serving the previous configuration", "err", err)
		return
	}
	h.logger.Info("reloaded")
}

// reopenLog is SIGUSR1.
func (h *signalHandler) reopenLog() {
	if h.reopen == nil {
		h.logger.Info("File log re-open ignored, not a file logger")
		return
	}
	h.reopen()
}

// lameDuck is SIGUSR2: the server stops accepting clients, closes the
// existing ones over the lame-duck duration and shuts down; serve then
// returns as after a stop. Before the server runs it stops the node.
func (h *signalHandler) lameDuck() {
	s := h.n.srv()
	if s == nil {
		h.stop()
		return
	}
	if !h.ldm.CompareAndSwap(false, true) {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		s.LameDuckShutdown()
	}()
}

// errServerStopped is returned by serve when the server stopped on its own.
var errServerStopped = errors.New("server stopped")

// serve waits until ctx ends or the server stops. A stop after lame-duck
// mode (inLameDuck reports true) is a clean exit.
func (n *node) serve(ctx context.Context, inLameDuck func() bool) error {
	s := n.srv()
	done := make(chan struct{})
	go func() { s.WaitForShutdown(); close(done) }()
	select {
	case <-ctx.Done():
		s.Shutdown()
		<-done
		return nil
	case <-done:
		if inLameDuck() {
			return nil
		}
		return errServerStopped
	}
}

// processName is the name pgrep sees for a program run as arg0.
func processName(arg0 string) string {
	name := filepath.Base(arg0)
	if name == "" || name == "." || name == string(filepath.Separator) {
		return "nats-autotls"
	}
	return name
}

//go:build !windows

package main

import (
	"context"
	"os"
	"syscall"

	"github.com/nats-io/nats-server/v2/server"
)

// handledSignals are the signals main subscribes to.
var handledSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}

// handle acts on one signal.
func (h *signalHandler) handle(ctx context.Context, sig os.Signal) {
	h.trapped(sig)
	switch sig {
	case syscall.SIGINT:
		h.stop()
	case syscall.SIGTERM:
		if !h.ldm.Load() { // nats-server lets lame-duck mode finish
			h.stop()
		}
	case syscall.SIGHUP:
		h.reload(ctx)
	case syscall.SIGUSR1:
		h.reopenLog()
	case syscall.SIGUSR2:
		h.lameDuck()
	}
}

// setProcessName makes a bare --signal look for processes named as this
// binary: nats-autotls, or the name it was installed under in place of
// nats-server (nats-server's own default is nats-server).
func setProcessName() { server.SetProcessName(processName(os.Args[0])) }

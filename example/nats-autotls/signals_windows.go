//go:build windows

package main

import (
	"context"
	"os"
	"syscall"
)

// handledSignals are the signals main subscribes to. Windows has no
// SIGUSR1 or SIGUSR2.
var handledSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// handle acts on one signal.
func (h *signalHandler) handle(ctx context.Context, sig os.Signal) {
	h.trapped(sig)
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM:
		h.stop()
	case syscall.SIGHUP:
		h.reload(ctx)
	}
}

// setProcessName does nothing on Windows, where --signal names a service.
func setProcessName() {}

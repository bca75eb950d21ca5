package main

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// runSidecar keeps an external nats-server's certificate files current
// until ctx ends.
func runSidecar(ctx context.Context, m *tlsmgr.Manager, af *autoTLSFlags, logger *slog.Logger, onSync func(error)) error {
	sc := &reload.Sidecar{
		Exporter:    reload.Exporter{Manager: m, Dir: af.exportDir},
		ConfirmAddr: af.confirm,
		Logger:      logger,
		OnSync:      onSync,
	}
	if pid, err := strconv.Atoi(af.reloadPID); err == nil {
		sc.PID = pid
	} else {
		sc.PIDFile = af.reloadPID
	}
	err := sc.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

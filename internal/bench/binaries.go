//go:build unix

package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// Packages the run builds when Config.Binaries does not name them.
const (
	natsServerPkg = "github.com/nats-io/nats-server/v2"
	autoTLSPkg    = "github.com/nats-autotls/autotls/example/nats-autotls"
)

// binaries builds, once, the programs Config.Binaries does not name.
func (e *env) binaries(ctx context.Context) (Binaries, error) {
	e.binOnce.Do(func() {
		e.bins = e.cfg.Binaries
		if e.bins.NATSServer == "" {
			e.bins.NATSServer, e.binErr = e.build(ctx, natsServerPkg, "nats-server")
		}
		if e.binErr == nil && e.bins.AutoTLS == "" {
			e.bins.AutoTLS, e.binErr = e.build(ctx, autoTLSPkg, "nats-autotls")
		}
	})
	return e.bins, e.binErr
}

// build runs "go build" for pkg into the work directory.
func (e *env) build(ctx context.Context, pkg, name string) (string, error) {
	out := filepath.Join(e.dir, "bin", name)
	e.logf("building %s", pkg)
	b, err := exec.CommandContext(ctx, "go", "build", "-o", out, pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

//go:build unix

package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// RunRenewChild is the child side of section 7's fsync count: it starts a
// Manager on a FileStorage in dir with a new private CA and renews its
// certificate n times.
func RunRenewChild(ctx context.Context, dir string, n int) error {
	certPEM, keyPEM, err := privateca.Generate("nats-autotls bench CA", 24*time.Hour)
	if err != nil {
		return err
	}
	ca, err := privateca.New(privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})
	if err != nil {
		return err
	}
	m, err := startManager(ctx, tlsmgr.Config{Names: names, PrivateCA: ca, Storage: tlsmgr.NewFileStorage(dir)})
	if err != nil {
		return err
	}
	defer m.Close()
	for range n {
		if err := m.Renew(ctx, tlsmgr.RoleClient); err != nil {
			return err
		}
	}
	return nil
}

// fsyncsPerRenew runs Config.Exe's renew child under strace with 0 and
// with n renewals and returns the fsync-like calls per renewal, or false
// if strace or the executable is missing.
func (e *env) fsyncsPerRenew(ctx context.Context, n int) (float64, bool, error) {
	if e.cfg.Exe == "" {
		return 0, false, nil
	}
	if _, err := exec.LookPath("strace"); err != nil {
		return 0, false, nil
	}
	var counts [2]int
	for i, renews := range []int{0, n} {
		dir, err := e.subdir("fsync")
		if err != nil {
			return 0, false, err
		}
		trace := filepath.Join(dir, "strace.txt")
		cmd := exec.CommandContext(ctx, "strace", "-f", "-qq", "-o", trace, "-e", "trace=fsync,fdatasync,sync_file_range",
			e.cfg.Exe, "-renew_child", filepath.Join(dir, "storage"), "-renew_n", strconv.Itoa(renews))
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, false, fmt.Errorf("renew child: %w: %s", err, out)
		}
		if counts[i], err = countSyncs(trace); err != nil {
			return 0, false, err
		}
	}
	return float64(counts[1]-counts[0]) / float64(n), true, nil
}

// countSyncs counts the fsync-like calls in an strace output.
func countSyncs(trace string) (int, error) {
	f, err := os.Open(trace)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "sync") && !strings.Contains(sc.Text(), "resumed") {
			n++
		}
	}
	return n, sc.Err()
}

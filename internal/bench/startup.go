//go:build unix

package bench

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Start-up arm names.
const (
	armBinary     = "nats-autotls, stored certificates"
	armNATSServer = "nats-server, same certificates as files"
	armNSControl  = "nats-server control (A/A)"
)

// startupSetup is what the start-up arms share.
type startupSetup struct {
	bins    Binaries
	storage string
	files   certFiles
	pool    *x509.CertPool
}

// runStartup runs section 5: the time from exec to the first verified TLS
// handshake on the client port, for the reference binary with its
// certificates already stored and for nats-server given the same
// certificate as files, in alternating rounds.
func (e *env) runStartup(ctx context.Context) ([]Section, error) {
	su, err := e.startupSetup(ctx)
	if err != nil {
		return nil, err
	}
	arms := []string{armBinary, armNATSServer, armNSControl}
	res := make([]Sample, len(arms))
	rounds := 2 * e.cfg.Rounds
	if e.cfg.Short {
		rounds = 1
	}
	for r := range rounds {
		for i := range arms {
			j := (i + r) % len(arms)
			d, err := su.startOnce(ctx, arms[j], "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", arms[j], err)
			}
			res[j].addDur(d)
		}
	}
	sec := Section{ID: "5", Title: "Start-up to ready (exec to first verified TLS handshake)", Notes: []string{
		fmt.Sprintf("%d alternating rounds; each start polls the client port every millisecond; ratios are per round to %q.", rounds, armNATSServer),
	}}
	for i, a := range arms {
		sec.Rows = append(sec.Rows, row(a, "ready", "us", res[i]).withRatio(armNATSServer, res[i], res[1]))
	}
	rows, err := su.syscallRows(ctx)
	if err != nil {
		return nil, err
	}
	sec.Rows = append(sec.Rows, rows...)
	return []Section{sec}, nil
}

// startupSetup builds the binaries, runs the reference binary once to
// store its CA and certificate, and exports that certificate to files.
func (e *env) startupSetup(ctx context.Context) (*startupSetup, error) {
	bins, err := e.binaries(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := e.subdir("startup")
	if err != nil {
		return nil, err
	}
	su := &startupSetup{bins: bins, storage: filepath.Join(dir, "storage"), files: newCertFiles(dir, "server")}
	// The first start generates the CA and the certificate; it trusts
	// anything, since the bundle does not exist yet.
	if _, err := su.startOnce(ctx, armBinary, ""); err != nil {
		return nil, fmt.Errorf("first start of %s: %w", armBinary, err)
	}
	bundle, err := os.ReadFile(filepath.Join(su.storage, "ca-bundle.pem"))
	if err != nil {
		return nil, err
	}
	su.pool = x509.NewCertPool()
	if !su.pool.AppendCertsFromPEM(bundle) {
		return nil, errors.New("no certificate in the reference binary's ca-bundle.pem")
	}
	return su, su.exportStored()
}

// exportStored writes the certificate the binary stored to su.files.
func (su *startupSetup) exportStored() error {
	var found bool
	err := filepath.WalkDir(filepath.Join(su.storage, "certificates"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") || found {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var sc struct {
			ChainPEM string `json:"chain_pem"`
			KeyPEM   string `json:"key_pem"`
		}
		if err := json.Unmarshal(b, &sc); err != nil || sc.ChainPEM == "" || sc.KeyPEM == "" {
			return fmt.Errorf("%s: not a stored certificate (%v)", p, err)
		}
		found = true
		return errors.Join(os.WriteFile(su.files.cert, []byte(sc.ChainPEM), 0o644), os.WriteFile(su.files.key, []byte(sc.KeyPEM), 0o600))
	})
	if err == nil && !found {
		err = errors.New("the reference binary stored no certificate")
	}
	return err
}

// command returns the command line of an arm listening on port.
func (su *startupSetup) command(arm string, port int) (string, []string) {
	p := strconv.Itoa(port)
	if arm == armBinary {
		return su.bins.AutoTLS, []string{"-a", "127.0.0.1", "-p", p, "-autotls_storage", su.storage}
	}
	return su.bins.NATSServer, []string{"-a", "127.0.0.1", "-p", p, "--tls", "--tlscert", su.files.cert, "--tlskey", su.files.key}
}

// startOnce starts an arm, optionally under strace writing to trace, and
// returns the time until its first verified handshake; it then stops it.
func (su *startupSetup) startOnce(ctx context.Context, arm, trace string) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	name, args := su.command(arm, port)
	if trace != "" {
		args = append([]string{"-f", "-qq", "-o", trace, "-e", "trace=fsync,fdatasync,sync_file_range,rename,renameat,renameat2,listen", name}, args...)
		name = "strace"
	}
	cmd := command(name, args...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer stopProcess(cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for {
		c, err := holdConn(ctx, addr, su.pool)
		if err == nil {
			d := time.Since(start)
			c.Close()
			return d, nil
		}
		if time.Since(start) > waitLimit || ctx.Err() != nil {
			return 0, fmt.Errorf("not ready after %v: %w", time.Since(start), err)
		}
		time.Sleep(time.Millisecond)
	}
}

// command makes a command that runs in its own process group, so that
// stopProcess reaches its children too (strace's tracee).
func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// stopProcess stops a command's process group with SIGTERM, then SIGKILL
// after 10 seconds, and waits for it.
func stopProcess(cmd *exec.Cmd) {
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	timer := time.AfterFunc(10*time.Second, func() { _ = syscall.Kill(pgid, syscall.SIGKILL) })
	_ = cmd.Wait()
	timer.Stop()
}

// syscallRows counts, with strace if it is installed, the fsyncs and
// renames each program makes before it listens.
func (su *startupSetup) syscallRows(ctx context.Context) ([]Row, error) {
	if _, err := exec.LookPath("strace"); err != nil {
		return nil, nil
	}
	var rows []Row
	for _, arm := range []string{armBinary, armNATSServer} {
		trace := su.files.cert + ".strace"
		if _, err := su.startOnce(ctx, arm, trace); err != nil {
			return nil, fmt.Errorf("%s under strace: %w", arm, err)
		}
		fsyncs, renames, err := countBeforeListen(trace)
		if err != nil {
			return nil, err
		}
		rows = append(rows, count(arm, "fsyncs before listening", "", float64(fsyncs)), count(arm, "renames before listening", "", float64(renames)))
	}
	return rows, nil
}

// countBeforeListen counts fsync-like and rename calls in an strace output
// before the first listen.
func countBeforeListen(trace string) (fsyncs, renames int, err error) {
	f, err := os.Open(trace)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.Contains(l, "listen("):
			return fsyncs, renames, nil
		case strings.Contains(l, "sync("), strings.Contains(l, "sync_file_range("):
			fsyncs++
		case strings.Contains(l, "rename"):
			renames++
		}
	}
	return fsyncs, renames, sc.Err()
}

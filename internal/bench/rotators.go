//go:build unix

package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// A rotation is one certificate change as its rotator saw it.
type rotation struct {
	serial string
	// ready is when the new certificate was durable: stored by the
	// Manager, or its files written.
	ready time.Time
	// done is when the operator's step returned: Renew, ReloadOptions, or
	// sending SIGHUP.
	done time.Time
	// cost is what making the ready certificate live took: the swap
	// (storage write returned to installed event), or ReloadOptions; zero
	// if the step is asynchronous.
	cost time.Duration
	// total is the whole step, issuing included for the Manager.
	total time.Duration
}

// A rotator changes the certificate of one server under test.
type rotator interface {
	url() string
	rotate(ctx context.Context) (rotation, error)
	close()
}

// Rotator arm names.
const (
	armProject = "project (Renew)"
	armReload  = "files + ReloadOptions"
	armSIGHUP  = "external nats-server, files + SIGHUP"
)

// managedRotator renews through the Manager of an embedded server.
type managedRotator struct {
	m     *tlsmgr.Manager
	s     *server.Server
	u     string
	st    *stampStorage
	watch *installWatch
}

// newManagedRotator starts a Manager on file storage and a server on it.
func (e *env) newManagedRotator(ctx context.Context) (*managedRotator, error) {
	dir, err := e.subdir("managed")
	if err != nil {
		return nil, err
	}
	r := &managedRotator{st: newStampStorage(tlsmgr.NewFileStorage(dir)), watch: &installWatch{}}
	if r.m, err = startManager(ctx, e.managerConfig(r.st, r.watch.onEvent)); err != nil {
		return nil, err
	}
	opts, err := managedOpts(r.m)
	if err == nil {
		r.s, r.u, err = startServer(opts)
	}
	if err != nil {
		r.m.Close()
		return nil, err
	}
	return r, nil
}

func (r *managedRotator) url() string { return r.u }

// rotate renews. The swap's cost is from the storage write returning to
// the installed event's time, which the Manager takes right after the
// pointer swap, both on the renewing goroutine.
func (r *managedRotator) rotate(ctx context.Context) (rotation, error) {
	start := time.Now()
	if err := r.m.Renew(ctx, tlsmgr.RoleClient); err != nil {
		return rotation{}, err
	}
	done := time.Now()
	cert, _, err := r.m.Current(tlsmgr.RoleClient)
	if err != nil {
		return rotation{}, err
	}
	ready, inst := r.st.stored(), r.watch.installed()
	rot := rotation{serial: cert.Leaf.SerialNumber.String(), ready: ready, done: done, total: done.Sub(start)}
	if ready.After(start) && !inst.Before(ready) {
		rot.cost = inst.Sub(ready)
	}
	if !ready.After(start) {
		rot.ready = done // not stored: served when Renew returned
	}
	return rot, nil
}

func (r *managedRotator) close() {
	stopServer(r.s)
	r.m.Close()
}

// reloadRotator rewrites the files of an embedded server and applies
// them with ReloadOptions, as an embedder without this project would.
type reloadRotator struct {
	e     *env
	s     *server.Server
	u     string
	port  int
	files certFiles
}

func (e *env) newReloadRotator(ctx context.Context) (*reloadRotator, error) {
	dir, err := e.subdir("reload")
	if err != nil {
		return nil, err
	}
	r := &reloadRotator{e: e, files: newCertFiles(dir, "server")}
	if _, _, _, err := e.rewrite(ctx, r.files); err != nil {
		return nil, err
	}
	opts, err := fileOpts(r.files)
	if err != nil {
		return nil, err
	}
	if r.s, r.u, err = startServer(opts); err != nil {
		return nil, err
	}
	r.port = r.s.Addr().(*net.TCPAddr).Port
	return r, nil
}

func (r *reloadRotator) url() string { return r.u }

func (r *reloadRotator) rotate(ctx context.Context) (rotation, error) {
	c, start, ready, err := r.e.rewrite(ctx, r.files)
	if err != nil {
		return rotation{}, err
	}
	opts, err := fileOpts(r.files)
	if err != nil {
		return rotation{}, err
	}
	opts.Port = r.port
	t := time.Now()
	if err := r.s.ReloadOptions(opts); err != nil {
		return rotation{}, err
	}
	done := time.Now()
	return rotation{serial: c.Leaf.SerialNumber.String(), ready: ready, done: done, cost: done.Sub(t), total: done.Sub(start)}, nil
}

func (r *reloadRotator) close() { stopServer(r.s) }

// hupRotator rewrites the files of an external nats-server and sends it
// SIGHUP, as an operator's renewal hook would.
type hupRotator struct {
	e     *env
	cmd   *exec.Cmd
	u     string
	files certFiles
}

func (e *env) newHUPRotator(ctx context.Context) (*hupRotator, error) {
	bins, err := e.binaries(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := e.subdir("sighup")
	if err != nil {
		return nil, err
	}
	r := &hupRotator{e: e, files: newCertFiles(dir, "server")}
	if _, _, _, err := e.rewrite(ctx, r.files); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nats.conf")
	body := fmt.Sprintf("listen: \"127.0.0.1:%d\"\nmax_connections: 100000\ntls {\n  cert_file: %q\n  key_file: %q\n  timeout: 5\n}\n", port, r.files.cert, r.files.key)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, err
	}
	r.cmd = command(bins.NATSServer, "-c", conf)
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	r.u = fmt.Sprintf("tls://127.0.0.1:%d", port)
	if err := e.waitTLS(ctx, r.u); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *hupRotator) url() string { return r.u }

func (r *hupRotator) rotate(ctx context.Context) (rotation, error) {
	c, start, ready, err := r.e.rewrite(ctx, r.files)
	if err != nil {
		return rotation{}, err
	}
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return rotation{}, err
	}
	done := time.Now()
	return rotation{serial: c.Leaf.SerialNumber.String(), ready: ready, done: done, total: done.Sub(start)}, nil
}

func (r *hupRotator) close() { stopProcess(r.cmd) }

// rewrite issues a new certificate and writes it to f. It returns the
// certificate, when writing started and when the files were complete.
func (e *env) rewrite(ctx context.Context, f certFiles) (c *tls.Certificate, start, ready time.Time, err error) {
	if c, err = e.issue(ctx); err != nil {
		return nil, start, ready, err
	}
	start = time.Now()
	if err = f.write(c); err != nil {
		return nil, start, ready, err
	}
	return c, start, time.Now(), nil
}

// freePort returns a TCP port free on the loopback interface now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTLS dials url until a TLS connection succeeds.
func (e *env) waitTLS(ctx context.Context, url string) error {
	deadline := time.Now().Add(waitLimit)
	for {
		nc, err := connect(url, e.clientTLS(nil))
		if err == nil {
			nc.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready: %w", url, err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

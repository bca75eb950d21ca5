package reload

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Defaults used when the corresponding Sidecar field is zero.
const (
	DefaultConfirmTimeout = 10 * time.Second
	DefaultRetryInterval  = time.Minute
)

// Confirmation polling bounds.
const (
	firstPoll = 20 * time.Millisecond
	maxPoll   = 500 * time.Millisecond
)

// A Sidecar keeps the certificate files of a nats-server in another process
// current: on every certificate change it exports the files ([Exporter]),
// sends the server SIGHUP (server.ProcessSignal with CommandReload), and
// confirms the reload by TLS handshakes with the server until it serves the
// exported leaf. Certificates may change again while a reload is confirmed;
// the next round picks that up.
//
// Run is the loop; Sync, Signal and Confirm are its steps, for one-shot
// hooks. A Sidecar must not be copied after first use, and only one of its
// methods may run at a time.
type Sidecar struct {
	// Exporter writes the files. Its Manager and Dir are required.
	Exporter Exporter

	// PID is the nats-server process to signal. Zero means read PIDFile.
	// Signal refuses 1 and below and the sidecar's own pid.
	PID int
	// PIDFile is the server's pid_file, read at each signal when PID is 0.
	PIDFile string

	// ConfirmAddr is host:port of a TLS port of the server that serves
	// ConfirmRole's files (usually the client port). Required.
	ConfirmAddr string
	// ConfirmRole is the role whose certificate ConfirmAddr serves. Zero
	// means tlsmgr.RoleClient.
	ConfirmRole tlsmgr.Role
	// ConfirmTLSFirst must be set if ConfirmAddr starts with TLS instead of
	// the NATS INFO line (see [Handshake]).
	ConfirmTLSFirst bool
	// ConfirmTimeout bounds one confirmation. Zero means
	// DefaultConfirmTimeout (10 seconds).
	ConfirmTimeout time.Duration

	// RetryInterval is how long Run waits after a failed round before it
	// tries again, unless a certificate changes first. Zero means
	// DefaultRetryInterval (1 minute).
	RetryInterval time.Duration

	// Logger receives a line per round. Nil means discard.
	Logger *slog.Logger
	// OnSync, if not nil, is called by Run after every round with its
	// result (nil, or an error such as a *ConfirmError).
	OnSync func(error)
}

// Run syncs once, then again after every certificate change of an exported
// role, until ctx ends; it returns ctx's error. Failed rounds are logged,
// reported to OnSync and retried after RetryInterval.
func (s *Sidecar) Run(ctx context.Context) error {
	for {
		changes, err := s.changes()
		if err == nil {
			err = s.Sync(ctx)
		}
		s.report(err)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !s.wait(ctx, changes, err != nil) {
			return ctx.Err()
		}
	}
}

// report logs and hands on a round's result.
func (s *Sidecar) report(err error) {
	log := s.logger()
	if err != nil {
		log.Warn("reload: sidecar round failed", "error", err.Error())
	} else {
		log.Info("reload: sidecar in sync", "dir", s.Exporter.Dir, "addr", s.ConfirmAddr)
	}
	if s.OnSync != nil {
		s.OnSync(err)
	}
}

// changes returns the change channels of every exported role, taken before
// the export so that no change is missed.
func (s *Sidecar) changes() ([]<-chan struct{}, error) {
	if s.Exporter.Manager == nil {
		return nil, errors.New("reload: sidecar: Exporter.Manager is required")
	}
	var out []<-chan struct{}
	for _, r := range s.Exporter.roles() {
		_, ch, err := s.Exporter.Manager.Current(r)
		if err != nil {
			return nil, fmt.Errorf("reload: sidecar: role %s: %w", r, err)
		}
		out = append(out, ch)
	}
	return out, nil
}

// wait blocks until a change, the retry timer (if retry) or the end of ctx,
// and reports whether to go on.
func (s *Sidecar) wait(ctx context.Context, changes []<-chan struct{}, retry bool) bool {
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}}
	if retry || len(changes) == 0 {
		t := time.NewTimer(durationOr(s.RetryInterval, DefaultRetryInterval))
		defer t.Stop()
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)})
	}
	for _, ch := range changes {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	chosen, _, _ := reflect.Select(cases)
	return chosen != 0
}

// Sync exports the files, and unless the server already serves them,
// signals it and confirms that it does. It returns a *ConfirmError if the
// server does not serve the exported certificate within ConfirmTimeout.
func (s *Sidecar) Sync(ctx context.Context) error {
	if _, err := s.Exporter.Export(ctx); err != nil {
		return err
	}
	want, err := s.exportedLeaf()
	if err != nil {
		return err
	}
	if got, err := s.served(ctx); err == nil && got.Equal(want) {
		return nil
	}
	sigErr := s.Signal()
	if sigErr != nil {
		s.logger().Warn("reload: sidecar signal failed", "error", sigErr.Error())
	}
	return s.confirm(ctx, want, sigErr)
}

// Signal sends the reload signal (SIGHUP on Unix) to the server's process.
func (s *Sidecar) Signal() error {
	pid, err := s.pid()
	if err != nil {
		return err
	}
	if err := server.ProcessSignal(server.CommandReload, strconv.Itoa(pid)); err != nil {
		// ProcessSignal's message starts with a newline; it wraps nothing.
		return fmt.Errorf("reload: signal pid %d: %s", pid, strings.TrimSpace(err.Error()))
	}
	return nil
}

// pid returns PID or the number in PIDFile, refusing one that cannot be a
// nats-server in another process (see checkPID).
func (s *Sidecar) pid() (int, error) {
	if s.PID != 0 {
		return s.PID, checkPID(s.PID, "Sidecar.PID")
	}
	if s.PIDFile == "" {
		return 0, errors.New("reload: sidecar: set PID or PIDFile")
	}
	b, err := os.ReadFile(s.PIDFile)
	if err != nil {
		return 0, fmt.Errorf("reload: read pid file: %w", err)
	}
	text := strings.TrimSpace(string(b))
	pid, err := strconv.Atoi(text)
	if err != nil {
		return 0, fmt.Errorf("reload: pid file %s holds %.40q, not a process id", s.PIDFile, text)
	}
	return pid, checkPID(pid, "pid file "+s.PIDFile)
}

// checkPID refuses a pid that signalling would harm: 0 and below (process
// groups), 1 (init, or in a container the pid namespace's first process,
// which is what a pid file written in another pid namespace often holds)
// and the sidecar's own process (SIGHUP would end it).
func checkPID(pid int, source string) error {
	switch {
	case pid <= 1:
		return fmt.Errorf("reload: %s holds %d, which is not a nats-server process; if the server runs in another pid namespace (container), share it with the sidecar or set Sidecar.PID", source, pid)
	case pid == os.Getpid():
		return fmt.Errorf("reload: %s holds %d, the sidecar's own process; point it at the nats-server's pid_file", source, pid)
	}
	return nil
}

// Confirm probes ConfirmAddr until it serves the exported certificate of
// ConfirmRole, or ConfirmTimeout passes (*ConfirmError).
func (s *Sidecar) Confirm(ctx context.Context) error {
	want, err := s.exportedLeaf()
	if err != nil {
		return err
	}
	return s.confirm(ctx, want, nil)
}

// confirm polls until the served leaf equals want.
func (s *Sidecar) confirm(ctx context.Context, want *x509.Certificate, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, durationOr(s.ConfirmTimeout, DefaultConfirmTimeout))
	defer cancel()
	ce := &ConfirmError{Addr: s.ConfirmAddr, Want: want.SerialNumber.Text(16), Err: cause}
	poll := firstPoll
	for {
		got, err := s.served(ctx)
		if err == nil && got.Equal(want) {
			return nil
		}
		if err == nil {
			ce.Got = got.SerialNumber.Text(16)
		} else if cause == nil {
			ce.Err = err
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ce
		case <-t.C:
		}
		poll = min(2*poll, maxPoll)
	}
}

// served returns the leaf the server serves now.
func (s *Sidecar) served(ctx context.Context) (*x509.Certificate, error) {
	if s.ConfirmAddr == "" {
		return nil, errors.New("reload: sidecar: ConfirmAddr is required")
	}
	cfg := &tls.Config{InsecureSkipVerify: true} // compared with the exported leaf, not verified
	if names := s.Exporter.Manager.Names(s.confirmRole()); len(names) > 0 && !strings.HasPrefix(names[0], "*") {
		cfg.ServerName = names[0]
	}
	cs, err := Handshake(ctx, s.ConfirmAddr, cfg, s.ConfirmTLSFirst)
	if err != nil {
		return nil, err
	}
	return cs.PeerCertificates[0], nil
}

// exportedLeaf reads the leaf of ConfirmRole from its stable path.
func (s *Sidecar) exportedLeaf() (*x509.Certificate, error) {
	b, err := os.ReadFile(s.Exporter.CertFile(s.confirmRole()))
	if err != nil {
		return nil, fmt.Errorf("reload: sidecar: %w", err)
	}
	chain, err := certutil.DecodeChain(b)
	if err != nil || len(chain) == 0 {
		return nil, fmt.Errorf("reload: sidecar: %s: no certificate (%v)", s.Exporter.CertFile(s.confirmRole()), err)
	}
	return x509.ParseCertificate(chain[0])
}

func (s *Sidecar) confirmRole() tlsmgr.Role {
	if s.ConfirmRole == "" {
		return tlsmgr.RoleClient
	}
	return s.ConfirmRole
}

func (s *Sidecar) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Logger
}

// durationOr returns d, or def if d is zero.
func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

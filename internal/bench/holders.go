//go:build unix

package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A HolderFunc opens n idle client connections (TLS, NATS CONNECT, PING
// answered) to the NATS server at addr, trusting the CA in caPEM, and
// returns when all are open. release closes them.
type HolderFunc func(ctx context.Context, addr string, caPEM []byte, n int) (release func(), err error)

// InProcessHolders holds the connections in the calling process.
func InProcessHolders(ctx context.Context, addr string, caPEM []byte, n int) (func(), error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("holders: no CA certificate in caPEM")
	}
	conns, err := holdConns(ctx, addr, pool, n)
	if err != nil {
		return nil, err
	}
	return func() {
		for _, c := range conns {
			c.Close()
		}
	}, nil
}

// ChildHolders returns a HolderFunc that holds the connections in a child
// process: exe run with args and "-hold ADDR -hold_n N -hold_ca FILE",
// which must call [RunHolder]. It keeps the caller's file descriptors for
// the server side of 10,000 connections.
func ChildHolders(exe string, args ...string) HolderFunc {
	return func(ctx context.Context, addr string, caPEM []byte, n int) (func(), error) {
		dir, err := os.MkdirTemp("", "bench-holders-")
		if err != nil {
			return nil, err
		}
		ca := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command(exe, append(args, "-hold", addr, "-hold_n", strconv.Itoa(n), "-hold_ca", ca)...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		release := func() {
			stdin.Close()
			_ = cmd.Wait()
			os.RemoveAll(dir)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if !strings.HasPrefix(line, "held ") {
			release()
			return nil, fmt.Errorf("holder process: %q: %v", strings.TrimSpace(line), err)
		}
		return release, nil
	}
}

// RunHolder is the child side of [ChildHolders]: it opens n connections to
// addr, prints "held N", and holds them until stdin is closed.
func RunHolder(ctx context.Context, addr, caFile string, n int, stdin io.Reader, stdout io.Writer) error {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	release, err := InProcessHolders(ctx, addr, caPEM, n)
	if err != nil {
		return err
	}
	defer release()
	fmt.Fprintf(stdout, "held %d\n", n)
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// holdConns opens n connections with a few workers.
func holdConns(ctx context.Context, addr string, pool *x509.CertPool, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				conns[i], errs[i] = holdConn(ctx, addr, pool)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return nil, err
	}
	return conns, nil
}

// holdConn opens one NATS client connection by hand: INFO, TLS, CONNECT,
// PING, PONG. It keeps no goroutine. A nil pool verifies nothing.
func holdConn(ctx context.Context, addr string, pool *x509.CertPool) (net.Conn, error) {
	d := net.Dialer{Timeout: waitLimit}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = raw.SetDeadline(time.Now().Add(waitLimit))
	if _, err := readLine(raw); err != nil { // INFO
		raw.Close()
		return nil, err
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	cfg.InsecureSkipVerify = pool == nil // only to find a server's CA
	tc := tls.Client(raw, cfg)
	if _, err := io.WriteString(tc, "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":true}\r\nPING\r\n"); err != nil {
		raw.Close()
		return nil, err
	}
	for {
		line, err := readLine(tc)
		if err != nil {
			raw.Close()
			return nil, err
		}
		if strings.HasPrefix(line, "PONG") {
			break
		}
	}
	_ = raw.SetDeadline(time.Time{})
	return tc, nil
}

// readLine reads one protocol line byte by byte, so that nothing after it
// is consumed.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 64<<10 {
		if _, err := io.ReadFull(r, buf); err != nil {
			return b.String(), err
		}
		if buf[0] == '\n' {
			return b.String(), nil
		}
		b.WriteByte(buf[0])
	}
	return b.String(), errors.New("protocol line too long")
}

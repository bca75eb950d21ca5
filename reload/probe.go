package reload

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// probeTimeout bounds a probe when ctx has no deadline.
const probeTimeout = 10 * time.Second

// drainTimeout bounds the wait for the server to close after a probe.
const drainTimeout = time.Second

// maxInfoLine bounds the INFO line a probe reads.
const maxInfoLine = 64 << 10

// Handshake connects to a NATS port at addr and runs a TLS handshake with
// cfg, returning the connection state (the served chain is in
// PeerCertificates). Unless tlsFirst, it first reads the plain-text INFO
// line that the classic NATS protocol sends before TLS on client and
// leafnode ports; set tlsFirst for ports that start with TLS (route and
// gateway ports, handshake_first client and leafnode ports, websocket, MQTT,
// HTTPS monitoring). A nil
// cfg skips verification: only the served certificate is read. The
// connection is closed before Handshake returns. ctx bounds the whole
// exchange (10 seconds if it has no deadline). Safe for concurrent use.
func Handshake(ctx context.Context, addr string, cfg *tls.Config, tlsFirst bool) (tls.ConnectionState, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, probeTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, fmt.Errorf("reload: handshake %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if !tlsFirst {
		if err := readInfo(conn); err != nil {
			return tls.ConnectionState{}, fmt.Errorf("reload: handshake %s: %w", addr, err)
		}
	}
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true} // reading the served certificate only
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("reload: handshake %s: %w", addr, err)
	}
	closeGracefully(tc, deadline)
	return tc.ConnectionState(), nil
}

// closeGracefully sends close_notify and drains what the server still
// sends (TLS 1.3 session tickets) until it closes, so that the server reads
// the end of the handshake and sees an orderly close, not a reset it would
// log as a handshake error. It waits drainTimeout at most, and not past
// deadline.
func closeGracefully(tc *tls.Conn, deadline time.Time) {
	_ = tc.CloseWrite()
	if d := time.Now().Add(drainTimeout); d.Before(deadline) {
		deadline = d
	}
	_ = tc.SetReadDeadline(deadline)
	_, _ = io.Copy(io.Discard, tc)
}

// readInfo reads the INFO line one byte at a time, so that no byte of the
// TLS handshake that follows is consumed.
func readInfo(conn net.Conn) error {
	var line strings.Builder
	b := make([]byte, 1)
	for line.Len() < maxInfoLine {
		if _, err := io.ReadFull(conn, b); err != nil {
			return fmt.Errorf("read INFO: %w", err)
		}
		if b[0] == '\n' {
			if !strings.HasPrefix(line.String(), "INFO ") {
				return errors.New("read INFO: the port did not send a NATS INFO line (a TLS-first port? set tlsFirst)")
			}
			return nil
		}
		line.WriteByte(b[0])
	}
	return errors.New("read INFO: line too long")
}

package natsopts_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"time"
)

// mqttPublish connects to an MQTT 3.1.1 listener over TLS, publishes one
// QoS 0 message and returns once the server has processed it (a PINGREQ
// sent after the PUBLISH is answered in order). It returns the connection
// state so the caller can check the served certificate.
func mqttPublish(addr string, cfg *tls.Config, topic string, payload []byte) (tls.ConnectionState, error) {
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, fmt.Errorf("mqtt dial: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wait))

	// CONNECT: protocol "MQTT" level 4, clean session, keep-alive 60 s.
	connect := append([]byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60}, mqttString("natsopts-test")...)
	if err := mqttWrite(conn, 0x10, connect); err != nil {
		return tls.ConnectionState{}, err
	}
	connack := make([]byte, 4)
	if _, err := io.ReadFull(conn, connack); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("mqtt CONNACK: %w", err)
	}
	if connack[0] != 0x20 || connack[3] != 0 {
		return tls.ConnectionState{}, fmt.Errorf("mqtt CONNACK refused: % x", connack)
	}
	if err := mqttWrite(conn, 0x30, append(mqttString(topic), payload...)); err != nil {
		return tls.ConnectionState{}, err
	}
	if err := mqttWrite(conn, 0xC0, nil); err != nil { // PINGREQ
		return tls.ConnectionState{}, err
	}
	pong := make([]byte, 2)
	if _, err := io.ReadFull(conn, pong); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("mqtt PINGRESP: %w", err)
	}
	if pong[0] != 0xD0 {
		return tls.ConnectionState{}, fmt.Errorf("mqtt: want PINGRESP, got % x", pong)
	}
	_ = mqttWrite(conn, 0xE0, nil) // DISCONNECT
	return conn.ConnectionState(), nil
}

// mqttWrite writes one control packet: type byte, remaining length, body.
func mqttWrite(w io.Writer, typ byte, body []byte) error {
	if len(body) > 268435455 {
		return errors.New("mqtt: packet too long")
	}
	pkt := []byte{typ}
	n := len(body)
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		pkt = append(pkt, b)
		if n == 0 {
			break
		}
	}
	if _, err := w.Write(append(pkt, body...)); err != nil {
		return fmt.Errorf("mqtt write %#x: %w", typ, err)
	}
	return nil
}

// mqttString encodes a length-prefixed UTF-8 string.
func mqttString(s string) []byte {
	return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...)
}

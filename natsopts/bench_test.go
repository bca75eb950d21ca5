package natsopts_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// BenchmarkApply measures Apply (with its Check) on options that enable
// every listener kind, a leafnode remote, routes and a remote gateway.
func BenchmarkApply(b *testing.B) {
	m := newManager(b, newCA(b), tlsmgr.Config{})
	opts := baseOpts()
	opts.HTTPSPort, opts.Websocket.Port, opts.MQTT.Port, opts.LeafNode.Port = -1, -1, -1, -1
	opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: routes("nats://hub.example.com:7422")}}
	opts.Cluster.Name, opts.Cluster.Port = "A", -1
	opts.Routes = routes("nats://localhost:6222", "nats://127.0.0.1:6223")
	opts.Gateway.Name, opts.Gateway.Port = "A", -1
	opts.Gateway.Gateways = []*server.RemoteGatewayOpts{{Name: "B", URLs: routes("nats://localhost:7222")}}
	b.ReportAllocs()
	for b.Loop() {
		if err := natsopts.Apply(opts, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientHandshake measures a new verified TLS connection to the
// client port of a nats-server (dial, INFO, handshake, close): "managed"
// with Apply's callback config, "static" with the same certificate in a
// plain Certificates config, the baseline of the same run.
func BenchmarkClientHandshake(b *testing.B) {
	m := newManager(b, newCA(b), tlsmgr.Config{})
	cert, _, err := m.Current(tlsmgr.RoleClient)
	if err != nil {
		b.Fatal(err)
	}
	managed := baseOpts()
	if err := natsopts.Apply(managed, m); err != nil {
		b.Fatal(err)
	}
	static := baseOpts()
	static.TLS, static.TLSTimeout = true, 2
	static.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	cfg := &tls.Config{RootCAs: trust(b, m), ServerName: "localhost"}
	for _, bc := range []struct {
		name string
		opts *server.Options
	}{{"managed", managed}, {"static", static}} {
		b.Run(bc.name, func(b *testing.B) {
			addr := benchServer(b, bc.opts)
			for b.Loop() {
				if _, err := reload.Handshake(context.Background(), addr, cfg, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchServer starts a server on opts and returns its client address.
func benchServer(b *testing.B, opts *server.Options) string {
	b.Helper()
	s, err := server.NewServer(opts)
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	b.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(wait) {
		b.Fatal("not ready")
	}
	return fmt.Sprintf("127.0.0.1:%d", opts.Port)
}

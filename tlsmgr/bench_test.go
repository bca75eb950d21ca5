package tlsmgr

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// tableRole returns a role serving n certificates, one name each.
func tableRole(n int) *roleState {
	certs := make([]*tls.Certificate, n)
	for i := range certs {
		certs[i] = &tls.Certificate{Leaf: &x509.Certificate{DNSNames: []string{fmt.Sprintf("host-%d.example.com", i)}}}
	}
	rs := &roleState{role: RoleClient, slot: &slot{}}
	rs.slot.cur.Store(&certVersion{table: newCertTable(certs...)})
	return rs
}

func TestCertTableLookup(t *testing.T) {
	wild := &tls.Certificate{Leaf: &x509.Certificate{DNSNames: []string{"*.wild.example.com"}}}
	rs := tableRole(3)
	t0 := rs.table()
	host := func(n int) *tls.Certificate {
		c, ok := t0.exact.get(fmt.Sprintf("host-%d.example.com", n))
		require.True(t, ok)
		return c
	}
	rs.slot.cur.Store(&certVersion{table: newCertTable(t0.def, host(1), host(2), wild)})
	tests := []struct {
		name, sni string
		want      *tls.Certificate
	}{
		{"exact", "host-2.example.com", host(2)},
		{"upper case", "HOST-1.Example.COM", host(1)},
		{"wildcard", "a.wild.example.com", wild},
		{"wildcard is one label", "a.b.wild.example.com", t0.def},
		{"empty SNI", "", t0.def},
		{"unknown", "nope.example.org", t0.def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rs.getCertificate(&tls.ClientHelloInfo{ServerName: tt.sni})
			require.NoError(t, err)
			require.Same(t, tt.want, got)
		})
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = rs.getCertificate(&tls.ClientHelloInfo{ServerName: "host-2.example.com"})
	})
	require.Zero(t, allocs)
}

// TestCertTableIndexes covers the list and the map of nameIndex: a table
// of more names than smallIndex, and a name two certificates share.
func TestCertTableIndexes(t *testing.T) {
	for _, n := range []int{1, smallIndex, smallIndex + 1, 100} {
		rs := tableRole(n)
		for i := range n {
			got, err := rs.getCertificate(&tls.ClientHelloInfo{ServerName: fmt.Sprintf("host-%d.example.com", i)})
			require.NoError(t, err)
			require.Equal(t, []string{fmt.Sprintf("host-%d.example.com", i)}, got.Leaf.DNSNames, "n=%d", n)
		}
		// (The name is made outside: under -race, sync.Pool drops fmt's
		// buffers at random, so a Sprintf inside would allocate at times.)
		hello := &tls.ClientHelloInfo{ServerName: fmt.Sprintf("host-%d.example.com", n-1)}
		allocs := testing.AllocsPerRun(100, func() { _, _ = rs.getCertificate(hello) })
		require.Zero(t, allocs, "n=%d", n)
	}
	a := &tls.Certificate{Leaf: &x509.Certificate{DNSNames: []string{"same.example.com"}}}
	b := &tls.Certificate{Leaf: &x509.Certificate{DNSNames: []string{"same.example.com"}}}
	require.Same(t, b, newCertTable(a, b).lookup("same.example.com"), "the last certificate for a name wins")
}

func BenchmarkGetCertificate(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("certs=%d", n), func(b *testing.B) {
			rs := tableRole(n)
			hello := &tls.ClientHelloInfo{ServerName: fmt.Sprintf("host-%d.example.com", n/2)}
			b.ReportAllocs()
			for b.Loop() {
				if c, _ := rs.getCertificate(hello); c == nil {
					b.Fatal("no certificate")
				}
			}
		})
	}
}

func BenchmarkHandshake(b *testing.B) {
	m, err := New(Config{Storage: NewMemoryStorage()})
	require.NoError(b, err)
	b.Cleanup(func() { m.Close() })
	require.NoError(b, m.Start(context.Background()))
	managed, err := m.TLSConfig(RoleClient)
	require.NoError(b, err)
	cert, _, err := m.Current(RoleClient)
	require.NoError(b, err)
	static := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	client := &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	b.Cleanup(func() { ln.Close() })
	for _, bc := range []struct {
		name string
		cfg  *tls.Config
	}{{"manager", managed}, {"static", static}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				handshake(b, ln, bc.cfg, client)
			}
		})
	}
}

// handshake runs one TLS handshake over loopback TCP.
func handshake(b *testing.B, ln net.Listener, server, client *tls.Config) {
	done := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer raw.Close()
		done <- tls.Server(raw, server).Handshake()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if err := tls.Client(raw, client).Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInstall measures serving a new certificate version: the swap
// and the installed event, with the default (discarding) logger.
func BenchmarkInstall(b *testing.B) {
	m, err := New(Config{Storage: NewMemoryStorage()})
	require.NoError(b, err)
	b.Cleanup(func() { m.Close() })
	require.NoError(b, m.Start(context.Background()))
	s := m.roles[RoleClient].slot
	cur := s.cur.Load()
	versions := make([]*certVersion, b.N)
	for i := range versions {
		v := *cur
		v.replaced = make(chan struct{})
		versions[i] = &v
	}
	st, _, _ := s.state()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.install(s, versions[i], st, false)
	}
}

func TestServedChainHasNoRoot(t *testing.T) {
	m, err := New(Config{Storage: NewMemoryStorage()})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.Start(context.Background()))
	cert, _, err := m.Current(RoleClient)
	require.NoError(t, err)
	require.Len(t, cert.Certificate, 1, "the private CA's leaf is sent alone")
	stored := m.roles[RoleClient].slot.cur.Load().cert
	require.Len(t, stored.Certificate, 2, "the stored chain keeps the root")
	for _, role := range []Role{RoleClient, RoleCluster} {
		cfg, err := m.TLSConfig(role)
		require.NoError(t, err)
		got, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
		require.NoError(t, err)
		require.Same(t, cert, got, role)
	}
}

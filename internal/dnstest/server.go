package dnstest

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/miekg/dns"
)

// listenAttempts bounds the search for a port free for both UDP and TCP.
const listenAttempts = 20

// Server is an authoritative DNS server on 127.0.0.1:<random port>,
// serving UDP and TCP on the same port. Create it with [Start]; the zero
// value is not usable. It is safe for concurrent use.
type Server struct {
	addr    string
	servers []*dns.Server
	wg      sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	// mu guards the zones, the record store and the switches below.
	mu      sync.RWMutex
	zones   map[string]struct{}
	records []record
	serial  uint32
	aaaa    bool
	tsig    tsigKey // RFC 2136 updates: see update.go
	updates int
}

// Start starts a server serving the given zones (for example
// "example.test."; the trailing dot is optional, case is ignored). More
// zones can be added later with [Server.AddZone]. The caller must call
// [Server.Close].
func Start(zones ...string) (*Server, error) {
	s := &Server{zones: make(map[string]struct{}), serial: 1}
	for _, z := range zones {
		s.AddZone(z)
	}
	pc, ln, err := listenPair()
	if err != nil {
		return nil, err
	}
	s.addr = pc.LocalAddr().String()
	handler := dns.HandlerFunc(s.serveDNS)
	s.servers = []*dns.Server{
		{PacketConn: pc, Handler: handler, TsigProvider: tsigProvider{s}, MsgAcceptFunc: acceptMsg},
		{Listener: ln, Handler: handler, TsigProvider: tsigProvider{s}, MsgAcceptFunc: acceptMsg},
	}
	for i, srv := range s.servers {
		if err := s.serve(srv); err != nil {
			for _, started := range s.servers[:i] {
				_ = started.Shutdown()
			}
			s.wg.Wait()
			_ = pc.Close()
			_ = ln.Close()
			return nil, err
		}
	}
	return s, nil
}

// listenPair finds a loopback port free for both UDP and TCP.
func listenPair() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range listenAttempts {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("dnstest: listen udp: %w", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		lastErr = err
		_ = pc.Close()
	}
	return nil, nil, fmt.Errorf("dnstest: no port free for both udp and tcp after %d attempts: %w", listenAttempts, lastErr)
}

// serve runs srv in a goroutine owned by s and returns once it accepts
// queries, or the error that stopped it from starting.
func (s *Server) serve(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		failed <- srv.ActivateAndServe()
	}()
	select {
	case <-started:
		return nil
	case err := <-failed:
		return fmt.Errorf("dnstest: serve: %w", err)
	}
}

// Addr returns the address the server listens on, "127.0.0.1:port", for
// both UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Close stops the server and waits for its goroutines. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, srv := range s.servers {
			errs = append(errs, srv.Shutdown())
		}
		s.wg.Wait()
		s.closeErr = errors.Join(errs...)
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("dnstest: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// AddZone makes the server authoritative for zone (trailing dot optional,
// case ignored). Adding a served zone again does nothing.
func (s *Server) AddZone(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones[dns.CanonicalName(zone)] = struct{}{}
}

// Zones returns the served zones, fully qualified and lower case, in no
// particular order.
func (s *Server) Zones() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.zones))
	for z := range s.zones {
		out = append(out, z)
	}
	return out
}

// ServeAAAA switches AAAA answers (::1 for every name in a zone) on or off.
// Off by default, because Pebble's validation authority dials the first
// address it resolves and asks for AAAA first.
func (s *Server) ServeAAAA(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aaaa = on
}

// Provider returns a new [Provider] that edits this server's record store.
// Each Provider has its own fault knobs and counters; all of them share the
// store.
func (s *Server) Provider() *Provider { return &Provider{srv: s} }

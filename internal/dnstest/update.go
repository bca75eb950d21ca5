package dnstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// RFC 2136 dynamic updates, as BIND's nsupdate and lego's rfc2136 provider
// send them. Updates are refused until a TSIG key is set with
// [Server.SetTSIGKey]; with a key, only updates signed by it are applied.

// tsigKey is the one key updates must be signed with.
type tsigKey struct {
	name   string // fully qualified, lower case
	secret string // base64
}

// SetTSIGKey makes the server accept RFC 2136 updates signed with the TSIG
// key name (for example "acme-update.") and its base64 secret, with any of
// the HMAC algorithms (hmac-sha1, -sha224, -sha256, -sha384, -sha512).
// An empty name refuses every update again, the default.
func (s *Server) SetTSIGKey(name, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		s.tsig = tsigKey{}
		return
	}
	s.tsig = tsigKey{name: dns.CanonicalName(name), secret: secret}
}

// Updates returns how many RFC 2136 updates the server has applied.
func (s *Server) Updates() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.updates
}

// update answers an UPDATE message: it checks the signature, then applies
// the update section to the store atomically.
func (s *Server) update(w dns.ResponseWriter, req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	zone := dns.CanonicalName(req.Question[0].Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := req.IsTsig()
	if s.tsig.name == "" || t == nil || dns.CanonicalName(t.Hdr.Name) != s.tsig.name || w.TsigStatus() != nil {
		m.Rcode = dns.RcodeRefused
		if t != nil && s.tsig.name != "" && w.TsigStatus() == nil {
			m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
		}
		return m
	}
	m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
	if _, ok := s.zones[zone]; !ok {
		m.Rcode = dns.RcodeNotAuth
		return m
	}
	for _, rr := range req.Ns {
		if z, ok := s.zoneOfLocked(dns.CanonicalName(rr.Header().Name)); !ok || z != zone {
			m.Rcode = dns.RcodeNotZone
			return m
		}
	}
	for _, rr := range req.Ns {
		s.applyLocked(rr)
	}
	s.updates++
	return m
}

// applyLocked applies one record of an update section (RFC 2136 2.5): class
// IN adds, class NONE deletes that record, class ANY deletes the RRset (or
// every record at the name with type ANY).
func (s *Server) applyLocked(rr dns.RR) {
	h := rr.Header()
	name := dns.CanonicalName(h.Name)
	typ := dns.TypeToString[h.Rrtype]
	switch h.Class {
	case dns.ClassINET:
		if txt, ok := rr.(*dns.TXT); ok {
			s.addLocked(record{name: name, typ: "TXT", data: strings.Join(txt.Txt, ""), ttl: time.Duration(h.Ttl) * time.Second})
		}
	case dns.ClassNONE:
		if txt, ok := rr.(*dns.TXT); ok {
			s.deleteLocked(record{name: name, typ: "TXT", data: strings.Join(txt.Txt, "")})
		}
	case dns.ClassANY:
		if h.Rrtype == dns.TypeANY {
			typ = ""
		}
		s.deleteLocked(record{name: name, typ: typ})
	}
}

// acceptMsg accepts queries and updates (the default refuses updates):
// one question, and for queries at most one answer and authority record.
func acceptMsg(dh dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15
	if dh.Bits&qr != 0 {
		return dns.MsgIgnore
	}
	switch int(dh.Bits>>11) & 0xF {
	case dns.OpcodeQuery, dns.OpcodeNotify:
		if dh.Qdcount != 1 || dh.Ancount > 1 || dh.Nscount > 1 || dh.Arcount > 2 {
			return dns.MsgReject
		}
	case dns.OpcodeUpdate:
		if dh.Qdcount != 1 || dh.Nscount > 64 {
			return dns.MsgReject
		}
	default:
		return dns.MsgRejectNotImplemented
	}
	return dns.MsgAccept
}

// tsigProvider verifies and signs with the server's current key.
type tsigProvider struct{ s *Server }

func (p tsigProvider) mac(msg []byte, t *dns.TSIG) ([]byte, error) {
	p.s.mu.RLock()
	key := p.s.tsig
	p.s.mu.RUnlock()
	if key.name == "" || dns.CanonicalName(t.Hdr.Name) != key.name {
		return nil, dns.ErrSecret
	}
	secret, err := base64.StdEncoding.DecodeString(key.secret)
	if err != nil {
		return nil, dns.ErrSecret
	}
	var h func() hash.Hash
	switch dns.CanonicalName(t.Algorithm) {
	case dns.HmacSHA1:
		h = sha1.New
	case dns.HmacSHA224:
		h = sha256.New224
	case dns.HmacSHA256:
		h = sha256.New
	case dns.HmacSHA384:
		h = sha512.New384
	case dns.HmacSHA512:
		h = sha512.New
	default:
		return nil, dns.ErrKeyAlg
	}
	m := hmac.New(h, secret)
	m.Write(msg)
	return m.Sum(nil), nil
}

// Generate implements dns.TsigProvider.
func (p tsigProvider) Generate(msg []byte, t *dns.TSIG) ([]byte, error) { return p.mac(msg, t) }

// Verify implements dns.TsigProvider.
func (p tsigProvider) Verify(msg []byte, t *dns.TSIG) error {
	want, err := p.mac(msg, t)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(want, got) {
		return dns.ErrSig
	}
	return nil
}

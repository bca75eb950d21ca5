package dnstest

import (
	"net"
	"strings"

	"github.com/miekg/dns"
)

const (
	// ttl is the TTL of synthesized records (SOA, NS, A, AAAA), in seconds.
	ttl = 60
	// maxCNAMEChain bounds CNAME chasing within served zones.
	maxCNAMEChain = 8
)

// serveDNS answers one query.
func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	var resp *dns.Msg
	if req.Opcode == dns.OpcodeUpdate {
		resp = s.update(w, req)
	} else {
		resp = s.answer(req)
	}
	if _, udp := w.LocalAddr().(*net.UDPAddr); udp {
		resp.Truncate(udpSize(req))
	}
	_ = w.WriteMsg(resp)
}

// udpSize is the largest UDP answer the client accepts.
func udpSize(req *dns.Msg) int {
	if opt := req.IsEdns0(); opt != nil {
		return int(opt.UDPSize())
	}
	return dns.MinMsgSize
}

// answer builds the response to req.
func (s *Server) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.Compress = true
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)

	s.mu.RLock()
	defer s.mu.RUnlock()
	zone, ok := s.zoneOfLocked(name)
	if !ok {
		m.Rcode = dns.RcodeRefused
		return m
	}
	s.resolveLocked(m, name, zone, q.Qtype, 0)
	return m
}

// resolveLocked appends to m the answer for (name, qtype) in zone,
// following CNAMEs into served zones.
func (s *Server) resolveLocked(m *dns.Msg, name, zone string, qtype uint16, depth int) {
	if targets := s.valuesLocked(name, "CNAME"); len(targets) > 0 && qtype != dns.TypeCNAME {
		target := targets[0]
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr(name, dns.TypeCNAME, ttl), Target: target})
		if tz, ok := s.zoneOfLocked(target); ok && depth < maxCNAMEChain {
			s.resolveLocked(m, target, tz, qtype, depth+1)
		}
		return
	}
	rrs := s.rrsetLocked(name, zone, qtype)
	if len(rrs) == 0 {
		m.Ns = append(m.Ns, s.soaLocked(zone))
		return
	}
	m.Answer = append(m.Answer, rrs...)
	if qtype == dns.TypeNS {
		m.Extra = append(m.Extra, &dns.A{Hdr: hdr(nsName(zone), dns.TypeA, ttl), A: net.IPv4(127, 0, 0, 1)})
	}
}

// rrsetLocked returns the records of type qtype at name.
func (s *Server) rrsetLocked(name, zone string, qtype uint16) []dns.RR {
	switch qtype {
	case dns.TypeSOA:
		if name == zone {
			return []dns.RR{s.soaLocked(zone)}
		}
	case dns.TypeNS:
		if name == zone {
			return []dns.RR{&dns.NS{Hdr: hdr(zone, dns.TypeNS, ttl), Ns: nsName(zone)}}
		}
	case dns.TypeA:
		return []dns.RR{&dns.A{Hdr: hdr(name, dns.TypeA, ttl), A: net.IPv4(127, 0, 0, 1)}}
	case dns.TypeAAAA:
		if s.aaaa {
			return []dns.RR{&dns.AAAA{Hdr: hdr(name, dns.TypeAAAA, ttl), AAAA: net.IPv6loopback}}
		}
	case dns.TypeTXT, dns.TypeCNAME:
		return s.storedLocked(name, qtype)
	}
	return nil
}

// storedLocked converts the stored records of type qtype at name.
func (s *Server) storedLocked(name string, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, r := range s.records {
		if r.name != name || r.typ != dns.TypeToString[qtype] {
			continue
		}
		h := hdr(name, qtype, uint32(r.ttl.Seconds()))
		switch qtype {
		case dns.TypeTXT:
			out = append(out, &dns.TXT{Hdr: h, Txt: splitTXT(r.data)})
		case dns.TypeCNAME:
			out = append(out, &dns.CNAME{Hdr: h, Target: r.data})
		}
	}
	return out
}

// soaLocked returns zone's SOA record.
func (s *Server) soaLocked(zone string) *dns.SOA {
	return &dns.SOA{
		Hdr:     hdr(zone, dns.TypeSOA, ttl),
		Ns:      nsName(zone),
		Mbox:    "hostmaster." + strings.TrimPrefix(zone, "."),
		Serial:  s.serial,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  0,
	}
}

// nsName is the name server of zone.
func nsName(zone string) string {
	if zone == "." {
		return "ns1."
	}
	return "ns1." + zone
}

// hdr builds an IN-class record header.
func hdr(name string, rrtype uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
}

// splitTXT splits a value into <character-string>s of at most 255 bytes.
func splitTXT(v string) []string {
	if v == "" {
		return []string{""}
	}
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}

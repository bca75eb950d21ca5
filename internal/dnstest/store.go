package dnstest

import (
	"strings"
	"time"

	"github.com/miekg/dns"
)

// record is one resource record in the store. name is fully qualified and
// lower case; typ is an upper-case type such as "TXT".
type record struct {
	name string
	typ  string
	data string
	ttl  time.Duration
}

// matches reports whether r matches the pattern p the way libdns's
// DeleteRecords does: the name always, the type, TTL and data only when set.
func (r record) matches(p record) bool {
	return r.name == p.name &&
		(p.typ == "" || r.typ == p.typ) &&
		(p.ttl == 0 || r.ttl == p.ttl) &&
		(p.data == "" || r.data == p.data)
}

// SetCNAME points name at target, replacing any CNAME at name; an empty
// target removes it. Both are fully qualified names (trailing dot
// optional, case ignored), for example "_acme-challenge.nats.example.test."
// and "nats.delegated.test.".
func (s *Server) SetCNAME(name, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = dns.CanonicalName(name)
	s.deleteLocked(record{name: name, typ: "CNAME"})
	if target != "" {
		s.addLocked(record{name: name, typ: "CNAME", data: dns.CanonicalName(target)})
	}
}

// TXT returns the TXT values currently stored at the fully qualified name
// (trailing dot optional, case ignored), in insertion order, or nil.
func (s *Server) TXT(name string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.valuesLocked(dns.CanonicalName(name), "TXT")
}

// AllTXT returns every TXT record in the store, keyed by fully qualified
// lower-case name.
func (s *Server) AllTXT() map[string][]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]string)
	for _, r := range s.records {
		if r.typ == "TXT" {
			out[r.name] = append(out[r.name], r.data)
		}
	}
	return out
}

// valuesLocked returns the data of the records of type typ at name.
func (s *Server) valuesLocked(name, typ string) []string {
	var out []string
	for _, r := range s.records {
		if r.name == name && r.typ == typ {
			out = append(out, r.data)
		}
	}
	return out
}

// addLocked adds r unless an identical record exists (an RRset holds each
// record once) and reports whether it added it.
func (s *Server) addLocked(r record) bool {
	for _, have := range s.records {
		if have.name == r.name && have.typ == r.typ && have.data == r.data {
			return false
		}
	}
	s.records = append(s.records, r)
	s.serial++
	return true
}

// deleteLocked removes the records matching pattern and returns them.
func (s *Server) deleteLocked(pattern record) []record {
	var deleted []record
	kept := s.records[:0]
	for _, r := range s.records {
		if r.matches(pattern) {
			deleted = append(deleted, r)
			continue
		}
		kept = append(kept, r)
	}
	clear(s.records[len(kept):])
	s.records = kept
	if len(deleted) > 0 {
		s.serial++
	}
	return deleted
}

// zoneOfLocked returns the longest served zone that name is in.
func (s *Server) zoneOfLocked(name string) (string, bool) {
	for candidate := name; ; {
		if _, ok := s.zones[candidate]; ok {
			return candidate, true
		}
		i := strings.IndexByte(candidate, '.')
		if i < 0 || i == len(candidate)-1 {
			if _, ok := s.zones["."]; ok {
				return ".", true
			}
			return "", false
		}
		candidate = candidate[i+1:]
	}
}

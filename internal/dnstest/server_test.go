package dnstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/dnstest"
)

// startServer starts a server for example.test. and delegated.test. that is
// closed when the test ends.
func startServer(t *testing.T) *dnstest.Server {
	t.Helper()
	srv, err := dnstest.Start("example.test", "Delegated.Test.")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv
}

// query sends one question to srv over network ("udp" or "tcp").
func query(t *testing.T, srv *dnstest.Server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	resp, _, err := c.Exchange(m, srv.Addr())
	require.NoError(t, err)
	return resp
}

// rrStrings renders records without TTLs, which are not under test.
func rrStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		rr.Header().Ttl = 0
		out = append(out, rr.String())
	}
	return out
}

func TestServerAnswers(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	_, err := srv.Provider().AppendRecords(ctx, "example.test.", []libdns.Record{
		libdns.TXT{Name: "_acme-challenge.nats", Text: "one"},
		libdns.TXT{Name: "_acme-challenge.nats", Text: "two"},
	})
	require.NoError(t, err)
	_, err = srv.Provider().AppendRecords(ctx, "delegated.test.", []libdns.Record{
		libdns.TXT{Name: "nats", Text: "delegated-value"},
	})
	require.NoError(t, err)
	srv.SetCNAME("_acme-challenge.leaf.example.test", "nats.delegated.test")

	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		rcode     int
		answer    []string
		authority int // number of SOA records in the authority section
		extra     []string
	}{
		{name: "SOA at apex", qname: "example.test.", qtype: dns.TypeSOA, rcode: dns.RcodeSuccess,
			answer: []string{"example.test.\t0\tIN\tSOA\tns1.example.test. hostmaster.example.test. 5 3600 600 86400 0"}},
		{name: "SOA below apex is NODATA", qname: "nats.example.test.", qtype: dns.TypeSOA, rcode: dns.RcodeSuccess, authority: 1},
		{name: "NS at apex with glue", qname: "delegated.test.", qtype: dns.TypeNS, rcode: dns.RcodeSuccess,
			answer: []string{"delegated.test.\t0\tIN\tNS\tns1.delegated.test."},
			extra:  []string{"ns1.delegated.test.\t0\tIN\tA\t127.0.0.1"}},
		{name: "A for any name", qname: "Deep.Name.Example.Test.", qtype: dns.TypeA, rcode: dns.RcodeSuccess,
			answer: []string{"deep.name.example.test.\t0\tIN\tA\t127.0.0.1"}},
		{name: "no AAAA by default", qname: "nats.example.test.", qtype: dns.TypeAAAA, rcode: dns.RcodeSuccess, authority: 1},
		{name: "TXT values", qname: "_acme-challenge.nats.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess,
			answer: []string{
				"_acme-challenge.nats.example.test.\t0\tIN\tTXT\t\"one\"",
				"_acme-challenge.nats.example.test.\t0\tIN\tTXT\t\"two\"",
			}},
		{name: "no TXT is NODATA", qname: "other.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, authority: 1},
		{name: "CNAME query", qname: "_acme-challenge.leaf.example.test.", qtype: dns.TypeCNAME, rcode: dns.RcodeSuccess,
			answer: []string{"_acme-challenge.leaf.example.test.\t0\tIN\tCNAME\tnats.delegated.test."}},
		{name: "TXT through CNAME", qname: "_acme-challenge.leaf.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess,
			answer: []string{
				"_acme-challenge.leaf.example.test.\t0\tIN\tCNAME\tnats.delegated.test.",
				"nats.delegated.test.\t0\tIN\tTXT\t\"delegated-value\"",
			}},
		{name: "outside every zone", qname: "example.com.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{name: "parent of a zone", qname: "test.", qtype: dns.TypeSOA, rcode: dns.RcodeRefused},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range tests {
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				resp := query(t, srv, network, tc.qname, tc.qtype)
				require.Equal(t, dns.RcodeToString[tc.rcode], dns.RcodeToString[resp.Rcode])
				if tc.rcode != dns.RcodeSuccess {
					return
				}
				require.True(t, resp.Authoritative, "authoritative answer")
				require.Equal(t, tc.answer, nilIfEmpty(rrStrings(resp.Answer)))
				require.Len(t, resp.Ns, tc.authority)
				for _, rr := range resp.Ns {
					require.IsType(t, &dns.SOA{}, rr)
				}
				require.Equal(t, tc.extra, nilIfEmpty(rrStrings(resp.Extra)))
			})
		}
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestServerAAAASwitch(t *testing.T) {
	srv := startServer(t)
	srv.ServeAAAA(true)
	resp := query(t, srv, "udp", "nats.example.test.", dns.TypeAAAA)
	require.Equal(t, []string{"nats.example.test.\t0\tIN\tAAAA\t::1"}, rrStrings(resp.Answer))
}

func TestServerAddZone(t *testing.T) {
	srv := startServer(t)
	require.Equal(t, dns.RcodeRefused, query(t, srv, "tcp", "late.test.", dns.TypeSOA).Rcode)
	srv.AddZone("LATE.test")
	resp := query(t, srv, "tcp", "late.test.", dns.TypeSOA)
	require.Equal(t, dns.RcodeSuccess, resp.Rcode)
	require.Len(t, resp.Answer, 1)
	require.ElementsMatch(t, []string{"example.test.", "delegated.test.", "late.test."}, srv.Zones())
}

func TestServerLargeTXTOverUDPTruncates(t *testing.T) {
	srv := startServer(t)
	var recs []libdns.Record
	for i := range 20 {
		recs = append(recs, libdns.TXT{Name: "_acme-challenge.big", Text: string(rune('a'+i)) + "-0123456789012345678901234567890123456789"})
	}
	_, err := srv.Provider().AppendRecords(context.Background(), "example.test.", recs)
	require.NoError(t, err)

	udp := query(t, srv, "udp", "_acme-challenge.big.example.test.", dns.TypeTXT)
	require.True(t, udp.Truncated, "an answer over 512 bytes is truncated over UDP")
	tcp := query(t, srv, "tcp", "_acme-challenge.big.example.test.", dns.TypeTXT)
	require.False(t, tcp.Truncated)
	require.Len(t, tcp.Answer, 20)
}

func TestServerCloseIdempotent(t *testing.T) {
	srv, err := dnstest.Start("example.test.")
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close())
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeSOA)
	_, _, err = c.Exchange(m, srv.Addr())
	require.Error(t, err, "a closed server accepts no queries")
}

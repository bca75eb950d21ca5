package dnstest_test

import (
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/dnstest"
)

const (
	keyName = "update-key."
	secret  = "c2VjcmV0LXNlY3JldC1zZWNyZXQ=" // base64
)

func sendUpdate(t *testing.T, srv *dnstest.Server, key, sec string, insert, remove []dns.RR) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate("update.test.")
	if len(insert) > 0 {
		m.Insert(insert)
	}
	if len(remove) > 0 {
		m.Remove(remove)
	}
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	if key != "" {
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		c.TsigSecret = map[string]string{key: sec}
	}
	resp, _, err := c.Exchange(m, srv.Addr())
	require.NoError(t, err)
	return resp
}

func txtRR(name, value string) dns.RR {
	return &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{value}}
}

func TestUpdateWithTSIG(t *testing.T) {
	srv, err := dnstest.Start("update.test.")
	require.NoError(t, err)
	defer srv.Close()

	name := "_acme-challenge.update.test."
	resp := sendUpdate(t, srv, "", "", []dns.RR{txtRR(name, "a")}, nil)
	require.Equal(t, dns.RcodeRefused, resp.Rcode, "no key configured: updates are refused")

	srv.SetTSIGKey(keyName, secret)
	resp = sendUpdate(t, srv, keyName, secret, []dns.RR{txtRR(name, "a"), txtRR(name, "b")}, nil)
	require.Equal(t, dns.RcodeSuccess, resp.Rcode)
	require.Equal(t, []string{"a", "b"}, srv.TXT(name), "an insert appends to the RRset")

	resp = sendUpdate(t, srv, keyName, secret, nil, []dns.RR{txtRR(name, "a")})
	require.Equal(t, dns.RcodeSuccess, resp.Rcode)
	require.Equal(t, []string{"b"}, srv.TXT(name), "a remove deletes exactly one record")
	require.Equal(t, 2, srv.Updates())

	t.Run("unsigned", func(t *testing.T) {
		resp := sendUpdate(t, srv, "", "", []dns.RR{txtRR(name, "x")}, nil)
		require.Equal(t, dns.RcodeRefused, resp.Rcode)
	})
	t.Run("wrong secret", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetUpdate("update.test.")
		m.Insert([]dns.RR{txtRR(name, "x")})
		m.SetTsig(keyName, dns.HmacSHA256, 300, time.Now().Unix())
		c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, TsigSecret: map[string]string{keyName: "d3Jvbmc="}}
		resp, _, _ := c.Exchange(m, srv.Addr())
		require.NotNil(t, resp)
		require.NotEqual(t, dns.RcodeSuccess, resp.Rcode)
	})
	t.Run("outside the zone", func(t *testing.T) {
		resp := sendUpdate(t, srv, keyName, secret, []dns.RR{txtRR("x.other.test.", "x")}, nil)
		require.Equal(t, dns.RcodeNotZone, resp.Rcode)
	})
	require.Equal(t, []string{"b"}, srv.TXT(name), "refused updates change nothing")
	require.Equal(t, 2, srv.Updates())
}

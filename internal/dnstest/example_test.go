package dnstest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/nats-autotls/autotls/internal/dnstest"
)

func Example() {
	srv, err := dnstest.Start("example.test.")
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// Publish a DNS-01 token the way a DNS hosting API would.
	_, err = srv.Provider().AppendRecords(context.Background(), "example.test.", []libdns.Record{
		libdns.TXT{Name: "_acme-challenge.nats", Text: "token"},
	})
	if err != nil {
		panic(err)
	}

	// Resolve it over TCP, as Pebble's validation authority does.
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("_acme-challenge.nats.example.test.", dns.TypeTXT)
	resp, _, err := c.Exchange(m, srv.Addr())
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Answer[0].(*dns.TXT).Txt)
	fmt.Println(srv.TXT("_acme-challenge.nats.example.test."))
	// Output:
	// [token]
	// [token]
}

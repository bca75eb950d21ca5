package dnstest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

func txt(name, text string) libdns.TXT { return libdns.TXT{Name: name, Text: text} }

func TestProviderAppendKeepsBothValues(t *testing.T) {
	srv := startServer(t)
	p := srv.Provider()
	ctx := context.Background()
	_, err := p.AppendRecords(ctx, "example.test.", []libdns.Record{txt("_acme-challenge", "wildcard")})
	require.NoError(t, err)
	got, err := p.AppendRecords(ctx, "example.test", []libdns.Record{txt("_acme-challenge", "apex")})
	require.NoError(t, err)
	require.Equal(t, []libdns.Record{txt("_acme-challenge", "apex")}, got)

	require.Equal(t, []string{"wildcard", "apex"}, srv.TXT("_acme-challenge.example.test"))
	resp := query(t, srv, "udp", "_acme-challenge.example.test.", dns.TypeTXT)
	require.Len(t, resp.Answer, 2, "both values are served")
}

func TestProviderDeleteRemovesExactlyItsValue(t *testing.T) {
	tests := []struct {
		name    string
		del     libdns.Record
		deleted []libdns.Record
		left    map[string][]string
	}{
		{
			name:    "by value",
			del:     txt("_acme-challenge", "a"),
			deleted: []libdns.Record{txt("_acme-challenge", "a")},
			left:    map[string][]string{"_acme-challenge.example.test.": {"b"}, "other.example.test.": {"a"}},
		},
		{
			name:    "unknown value is ignored",
			del:     txt("_acme-challenge", "zzz"),
			deleted: nil,
			left:    map[string][]string{"_acme-challenge.example.test.": {"a", "b"}, "other.example.test.": {"a"}},
		},
		{
			name:    "empty value matches all at the name",
			del:     libdns.RR{Name: "_acme-challenge", Type: "TXT"},
			deleted: []libdns.Record{txt("_acme-challenge", "a"), txt("_acme-challenge", "b")},
			left:    map[string][]string{"other.example.test.": {"a"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			p := srv.Provider()
			ctx := context.Background()
			_, err := p.AppendRecords(ctx, "example.test.", []libdns.Record{
				txt("_acme-challenge", "a"), txt("_acme-challenge", "b"), txt("other", "a"),
			})
			require.NoError(t, err)
			deleted, err := p.DeleteRecords(ctx, "example.test.", []libdns.Record{tc.del})
			require.NoError(t, err)
			require.Equal(t, tc.deleted, deleted)
			require.Equal(t, tc.left, srv.AllTXT())
		})
	}
}

func TestProviderSetReplacesRRset(t *testing.T) {
	srv := startServer(t)
	p := srv.Provider()
	ctx := context.Background()
	_, err := p.AppendRecords(ctx, "example.test.", []libdns.Record{txt("x", "1"), txt("x", "2"), txt("y", "1")})
	require.NoError(t, err)
	_, err = p.SetRecords(ctx, "example.test.", []libdns.Record{txt("x", "3")})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"x.example.test.": {"3"}, "y.example.test.": {"1"}}, srv.AllTXT())
}

func TestProviderGetRecordsTyped(t *testing.T) {
	srv := startServer(t)
	p := srv.Provider()
	ctx := context.Background()
	_, err := p.AppendRecords(ctx, "example.test.", []libdns.Record{
		libdns.TXT{Name: "@", Text: "apex", TTL: time.Minute},
		libdns.CNAME{Name: "_acme-challenge.nats", Target: "nats.delegated.test."},
	})
	require.NoError(t, err)
	_, err = p.AppendRecords(ctx, "delegated.test.", []libdns.Record{txt("nats", "elsewhere")})
	require.NoError(t, err)

	got, err := p.GetRecords(ctx, "example.test.")
	require.NoError(t, err)
	require.Equal(t, []libdns.Record{
		libdns.TXT{Name: "@", Text: "apex", TTL: time.Minute},
		libdns.CNAME{Name: "_acme-challenge.nats", Target: "nats.delegated.test."},
	}, got)
	zones, err := p.ListZones(ctx)
	require.NoError(t, err)
	require.Equal(t, []libdns.Zone{{Name: "delegated.test."}, {Name: "example.test."}}, zones)
}

func TestProviderFaults(t *testing.T) {
	srv := startServer(t)
	p := srv.Provider()
	ctx := context.Background()
	errAPI := errors.New("api down")
	p.FailNext(2, errAPI)
	p.FailDeletes(1, errAPI)

	for range 2 {
		_, err := p.AppendRecords(ctx, "example.test.", []libdns.Record{txt("a", "1")})
		require.ErrorIs(t, err, errAPI)
	}
	require.Empty(t, srv.AllTXT(), "a failed append changes nothing")
	_, err := p.SetRecords(ctx, "example.test.", []libdns.Record{txt("a", "1")})
	require.NoError(t, err)

	_, err = p.DeleteRecords(ctx, "example.test.", []libdns.Record{txt("a", "1")})
	require.ErrorIs(t, err, errAPI)
	require.Equal(t, []string{"1"}, srv.TXT("a.example.test."), "a failed delete changes nothing")
	_, err = p.DeleteRecords(ctx, "example.test.", []libdns.Record{txt("a", "1")})
	require.NoError(t, err)

	appends, deletes := p.Calls()
	require.Equal(t, 3, appends)
	require.Equal(t, 2, deletes)
	other, _ := srv.Provider().Calls()
	require.Zero(t, other, "each provider counts its own calls")
}

func TestProviderRejects(t *testing.T) {
	srv := startServer(t)
	p := srv.Provider()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		zone string
		want string
	}{
		{name: "zone not served", ctx: context.Background(), zone: "example.com.", want: `zone "example.com." is not served`},
		{name: "canceled context", ctx: canceled, zone: "example.test.", want: "context canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.AppendRecords(tc.ctx, tc.zone, []libdns.Record{txt("a", "1")})
			require.ErrorContains(t, err, tc.want)
			_, err = p.DeleteRecords(tc.ctx, tc.zone, []libdns.Record{txt("a", "1")})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestProviderConcurrent(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	const workers = 8
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			p := srv.Provider()
			rec := []libdns.Record{txt("_acme-challenge", fmt.Sprint(i))}
			_, err := p.AppendRecords(ctx, "example.test.", rec)
			require.NoError(t, err)
			query(t, srv, "udp", "_acme-challenge.example.test.", dns.TypeTXT)
			_, err = p.DeleteRecords(ctx, "example.test.", rec)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Empty(t, srv.AllTXT())
}

package acme

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/go-acme/lego/v4/challenge/dns01"
	legolog "github.com/go-acme/lego/v4/log"
)

// lego v4 keeps some settings in package variables: its logger, the
// dns-01 recursive resolvers and the dns-01 query timeout. This file is
// the only place that writes them, each at most once per process and
// before any order can read it, so no lock is ever held across a network
// wait and no Issuer waits for another. See "Process-wide state" in the
// package documentation.

// quietLegoOnce replaces lego's logger, once per process, before this
// package first uses lego.
var quietLegoOnce sync.Once

// legoResolvers is lego's dns-01 resolver list: set by the first Issuer
// with DNS01 in the process (to its Resolvers, or lego's default if it has
// none) and never changed afterwards. lego still reads it in two places
// this package cannot reach: the CNAME lookup it makes before its
// propagation check (whose answer this package ignores: it checks with the
// Issuer's own resolvers), and a lego DNS provider's own zone lookups.
var legoResolvers struct {
	once    sync.Once
	applied []string // nil: lego's default (/etc/resolv.conf)
}

// quietLego routes lego's log lines to [slog.Default] at debug level, with
// the attribute component=lego, instead of standard error.
func quietLego() {
	quietLegoOnce.Do(func() { legolog.Logger = legoLogBridge{} })
}

// claimLegoResolvers makes resolvers lego's dns-01 resolvers if no Issuer
// of this process did so before, and returns those lego uses (nil: its
// default). Every Issuer with DNS01 calls it in New, before its first
// order: that orders the single write before every read.
func claimLegoResolvers(resolvers []string) []string {
	legoResolvers.once.Do(func() {
		if len(resolvers) > 0 {
			legoResolvers.applied = dns01.ParseNameservers(resolvers)
			// The option writes the package variable and ignores its argument.
			_ = dns01.AddRecursiveNameservers(legoResolvers.applied)(nil)
		}
	})
	return legoResolvers.applied
}

// sameResolvers reports whether lego's resolvers are resolvers.
func sameResolvers(applied, resolvers []string) bool {
	return slices.Equal(applied, dns01.ParseNameservers(resolvers))
}

// legoLogBridge implements lego's StdLogger on top of slog.Default. Its
// Fatal methods log at error level and do not exit.
type legoLogBridge struct{}

func (legoLogBridge) log(level slog.Level, msg string) {
	slog.Default().Log(context.Background(), level, msg, "component", "lego")
}

func (b legoLogBridge) Fatal(args ...any)         { b.log(slog.LevelError, fmt.Sprint(args...)) }
func (b legoLogBridge) Fatalln(args ...any)       { b.log(slog.LevelError, fmt.Sprint(args...)) }
func (b legoLogBridge) Fatalf(f string, a ...any) { b.log(slog.LevelError, fmt.Sprintf(f, a...)) }
func (b legoLogBridge) Print(args ...any)         { b.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (b legoLogBridge) Println(args ...any)       { b.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (b legoLogBridge) Printf(f string, a ...any) { b.log(slog.LevelDebug, fmt.Sprintf(f, a...)) }

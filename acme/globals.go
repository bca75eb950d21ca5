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

// lego v4 keeps some settings in package variables: its logger and the
// dns-01 recursive resolvers. This file is the only place that writes
// them; see "Process-wide state" in the package documentation.

// quietLegoOnce replaces lego's logger, once per process, before this
// package first uses lego.
var quietLegoOnce sync.Once

// legoResolvers guards lego's dns01 resolver list. Every lego call that
// may read it (an order, a zone lookup) holds the read lock; changing it
// takes the write lock, so the write never races with a reader.
var legoResolvers struct {
	mu      sync.RWMutex
	applied []string // what was last written; nil: lego's default
}

// quietLego routes lego's log lines to [slog.Default] at debug level, with
// the attribute component=lego, instead of standard error.
func quietLego() {
	quietLegoOnce.Do(func() { legolog.Logger = legoLogBridge{} })
}

// useResolvers makes resolvers lego's dns01 recursive resolvers, unless
// they already are. Empty leaves lego's default (/etc/resolv.conf).
func useResolvers(resolvers []string) {
	if len(resolvers) == 0 {
		return
	}
	want := dns01.ParseNameservers(resolvers)
	legoResolvers.mu.RLock()
	same := slices.Equal(legoResolvers.applied, want)
	legoResolvers.mu.RUnlock()
	if same {
		return
	}
	legoResolvers.mu.Lock()
	defer legoResolvers.mu.Unlock()
	// The option writes the package variable and ignores its argument.
	_ = dns01.AddRecursiveNameservers(want)(nil)
	legoResolvers.applied = want
}

// readingLegoGlobals runs f holding the read lock on lego's resolver list.
func readingLegoGlobals(f func()) {
	legoResolvers.mu.RLock()
	defer legoResolvers.mu.RUnlock()
	f()
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

package natslog

import (
	"log/slog"
	"path/filepath"
	"testing"

	srvlog "github.com/nats-io/nats-server/v2/logger"
)

// The server's lines through a Log cost about what they cost through
// nats-server's own file logger (the baseline, same run): compare
// ns/op of BenchmarkFileLine/natsserver with the others.
func BenchmarkFileLine(b *testing.B) {
	b.Run("natsserver", func(b *testing.B) {
		l := srvlog.NewFileLogger(filepath.Join(b.TempDir(), "nats.log"), true, false, false, true)
		defer l.Close()
		b.ReportAllocs()
		for b.Loop() {
			l.Noticef("%s - cid:%d - Client connection created", "127.0.0.1:4222", 42)
		}
	})
	for _, json := range []bool{false, true} {
		name := map[bool]string{false: "natslog-text", true: "natslog-json"}[json]
		b.Run(name, func(b *testing.B) {
			l, err := New(Options{File: filepath.Join(b.TempDir(), "nats.log"), Time: true, JSON: json})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Shutdown()
			b.ReportAllocs()
			for b.Loop() {
				l.Noticef("%s - cid:%d - Client connection created", "127.0.0.1:4222", 42)
			}
		})
		b.Run(name+"-slog", func(b *testing.B) {
			l, err := New(Options{File: filepath.Join(b.TempDir(), "nats.log"), Time: true, JSON: json})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Shutdown()
			logger := slog.New(l.Handler())
			b.ReportAllocs()
			for b.Loop() {
				logger.Info("tlsmgr: certificate installed", "names", []string{"a.example"}, "issuer", "privateca-1")
			}
		})
	}
}

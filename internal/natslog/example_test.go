package natslog_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/natslog"
)

// One log for an embedded nats-server and the code around it: the
// server's lines and slog's go to the -l file, in nats-server's format
// (here JSON lines instead).
func Example() {
	dir, _ := os.MkdirTemp("", "natslog")
	defer os.RemoveAll(dir)
	opts := &server.Options{LogFile: filepath.Join(dir, "nats.log"), Logtime: true, Debug: true}

	l, err := natslog.New(natslog.FromServerOptions(opts, true))
	if err != nil {
		panic(err)
	}
	defer l.Shutdown()
	// s.SetLoggerV2(l, opts.Debug, opts.Trace, opts.TraceVerbose) for a
	// server s; here the server's call is made directly.
	l.Noticef("Server is ready")
	slog.New(l.Handler()).Info("tlsmgr: certificate installed", "names", []string{"nats.example.net"})

	b, _ := os.ReadFile(opts.LogFile)
	os.Stdout.Write(stripTimes(b))
	// Output:
	// {"level":"INFO","msg":"Server is ready"}
	// {"level":"INFO","msg":"tlsmgr: certificate installed","names":["nats.example.net"]}
}

// stripTimes removes the "time" field, which changes on every run.
func stripTimes(b []byte) []byte {
	return timeField.ReplaceAll(b, nil)
}

var timeField = regexp.MustCompile(`"time":"[^"]*",`)

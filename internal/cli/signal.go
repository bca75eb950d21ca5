package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// SendSignal sends the signal that spec names to a running nats-autotls
// process, as nats-server's --signal does. spec is COMMAND or COMMAND=PID,
// where COMMAND is stop (SIGKILL), quit (SIGINT), term (SIGTERM), reopen
// (SIGUSR1), reload (SIGHUP) or ldm (SIGUSR2, lame-duck mode), and PID is a
// process id, a pid file, or a prefix ending in "*" that signals every
// matching process. Without PID the single process named as
// server.SetProcessName set (found with pgrep) is signalled; more than one
// is an error.
func SendSignal(spec string) error {
	parts := strings.Split(spec, "=")
	if len(parts) > 2 {
		return fmt.Errorf("--signal %s: invalid signal parameters %v: use COMMAND or COMMAND=PID", spec, parts[2:])
	}
	cmd := server.Command(parts[0])
	if !slices.Contains(commands, parts[0]) {
		return fmt.Errorf("--signal %s: unknown signal %q: use stop, quit, term, reopen, reload or ldm", spec, parts[0])
	}
	pid := ""
	if len(parts) == 2 {
		pid = readPidFile(parts[1])
	}
	if err := server.ProcessSignal(cmd, pid); err != nil {
		return fmt.Errorf("--signal %s: %w", spec, err)
	}
	return nil
}

// commands are the --signal commands of nats-server.
var commands = []string{"stop", "quit", "term", "reopen", "reload", "ldm"}

// readPidFile returns the contents of the file named s if there is one
// (nats-server's pid file), else s.
func readPidFile(s string) string {
	if b, err := os.ReadFile(s); err == nil {
		return strings.TrimSpace(string(b))
	}
	return s
}

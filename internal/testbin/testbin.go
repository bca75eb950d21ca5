// Package testbin builds Go commands and runs them as child processes for
// tests that need a real external process: a plain nats-server built from
// the module cache, or the reference binary.
//
// # Building
//
// [Build] runs "go build" for a package into a directory. Builds are slow
// compared with a test, so a test binary builds each command once, for
// example behind a sync.Once, into a directory its TestMain removes:
//
//	bin, err := testbin.Build(ctx, testbin.NatsServer, filepath.Join(dir, "nats-server"))
//
// # Running
//
// [Start] runs a command with its stdout and stderr collected line by line;
// [Process.WaitFor] blocks until the n-th line containing a string, so a
// test synchronises on what the process prints rather than on sleeps.
// Start kills the process at the test's cleanup.
package testbin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// NatsServer is the package path of the nats-server command in the module
// graph, for [Build].
const NatsServer = "github.com/nats-io/nats-server/v2"

// Build runs "go build -o bin pkg" (pkg a package path, or a directory
// such as ".") and returns bin. The error carries the compiler's output.
func Build(ctx context.Context, pkg, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("testbin: go build %s: %w: %s", pkg, err, out)
	}
	return bin, nil
}

// A Process is a running child process whose output lines a test can wait
// for. Its methods are safe for concurrent use.
type Process struct {
	// Cmd is the running command; its Process field is set.
	Cmd *exec.Cmd
	// Wait bounds WaitFor.
	Wait time.Duration

	mu      sync.Mutex
	lines   []string
	changed chan struct{}
	done    chan struct{}
}

// Start starts name with args, collecting its stdout and stderr lines, and
// kills it at the test's cleanup. WaitFor waits at most wait.
func Start(t testing.TB, wait time.Duration, name string, args ...string) *Process {
	t.Helper()
	return StartCmd(t, wait, exec.Command(name, args...))
}

// StartCmd is Start for a command the caller prepared (its environment,
// its directory); cmd's Stdout and Stderr are replaced.
func StartCmd(t testing.TB, wait time.Duration, cmd *exec.Cmd) *Process {
	t.Helper()
	name := cmd.Path
	p := &Process{Cmd: cmd, Wait: wait, changed: make(chan struct{}), done: make(chan struct{})}
	r, w := io.Pipe()
	p.Cmd.Stdout, p.Cmd.Stderr = w, w
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("testbin: start %s: %v", name, err)
	}
	go p.read(r)
	go func() {
		_ = p.Cmd.Wait()
		_ = w.Close()
	}()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		<-p.done
	})
	return p
}

// read collects lines until the process's output closes.
func (p *Process) read(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
}

// Done is closed once the process has exited and its output is read.
func (p *Process) Done() <-chan struct{} { return p.done }

// Output returns the lines printed so far, joined by newlines.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Count returns how many lines printed so far contain s.
func (p *Process) Count(s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// WaitFor waits for the n-th line containing s and returns it. It fails
// the test if the process exits first or p.Wait passes.
func (p *Process) WaitFor(t testing.TB, s string, n int) string {
	t.Helper()
	l, err := p.waitAny(n, s)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return l
}

// WaitForAny waits for the first line containing one of alternatives and
// returns it, failing the test as WaitFor does.
func (p *Process) WaitForAny(t testing.TB, alternatives ...string) string {
	t.Helper()
	l, err := p.waitAny(1, alternatives...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return l
}

func (p *Process) waitAny(n int, alternatives ...string) (string, error) {
	deadline := time.After(p.Wait)
	exited := false
	for {
		p.mu.Lock()
		ch, seen := p.changed, 0
		for _, l := range p.lines {
			if containsAny(l, alternatives) {
				if seen++; seen == n {
					p.mu.Unlock()
					return l, nil
				}
			}
		}
		out := strings.Join(p.lines, "\n")
		p.mu.Unlock()
		if exited {
			return "", fmt.Errorf("testbin: %s exited before printing %q:\n%s", p.Cmd.Path, alternatives, out)
		}
		select {
		case <-ch:
		case <-p.done:
			exited = true // look at the last lines once more
		case <-deadline:
			return "", fmt.Errorf("testbin: %s printed no line %q within %v:\n%s", p.Cmd.Path, alternatives, p.Wait, out)
		}
	}
}

func containsAny(l string, subs []string) bool {
	for _, s := range subs {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

//go:build unix

// Command bench measures nats-autotls against plain nats-server TLS on
// loopback and prints a table, then the same report as JSON; see package
// internal/bench for what each section measures.
//
//	GOTOOLCHAIN=go1.27.3 go run ./internal/cmd/bench            # full run, several minutes
//	GOTOOLCHAIN=go1.27.3 go run ./internal/cmd/bench -short     # smoke test, seconds
//	GOTOOLCHAIN=go1.27.3 go run ./internal/cmd/bench -sections 4,6 -json out.json -markdown out.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/nats-autotls/autotls/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// run parses args and runs the benchmark, or, with -hold, holds client
// connections for a parent run.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "Run every section with tiny loads (a smoke test; the figures mean nothing).")
	rounds := fs.Int("rounds", 0, "Alternating rounds per comparison (default 7, or 2 with -short).")
	sections := fs.String("sections", "", "Comma-separated sections to run, 1-7 (default all).")
	dir := fs.String("dir", "", "Work directory (default: a temporary directory, removed at the end).")
	jsonOut := fs.String("json", "", "Write the JSON report to this file instead of after the table.")
	mdOut := fs.String("markdown", "", "Also write the tables as Markdown to this file.")
	quiet := fs.Bool("q", false, "Do not print progress to stderr.")
	inProcess := fs.Bool("holders_in_process", false, "Hold section 4's idle clients in this process instead of a child process.")
	hold := fs.String("hold", "", "Internal: hold -hold_n connections to this address until stdin closes.")
	holdN := fs.Int("hold_n", 0, "Internal: number of connections for -hold.")
	holdCA := fs.String("hold_ca", "", "Internal: CA file for -hold.")
	renewChild := fs.String("renew_child", "", "Internal: renew -renew_n times on a file storage in this directory, for an fsync count.")
	renewN := fs.Int("renew_n", 0, "Internal: renewals for -renew_child.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every option is a flag (see -h)", fs.Args())
	}
	if *hold != "" {
		return bench.RunHolder(ctx, *hold, *holdCA, *holdN, stdin, stdout)
	}
	if *renewChild != "" {
		return bench.RunRenewChild(ctx, *renewChild, *renewN)
	}
	cfg := bench.Config{Short: *short, Rounds: *rounds, Dir: *dir}
	if *sections != "" {
		cfg.Sections = strings.Split(*sections, ",")
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	if !*inProcess {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.Holders = bench.ChildHolders(exe)
		cfg.Exe = exe
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return write(rep, stdout, *jsonOut, *mdOut)
}

// write prints the table, then the JSON report (to jsonOut if set), and
// the Markdown tables to mdOut if set.
func write(rep *bench.Report, stdout io.Writer, jsonOut, mdOut string) error {
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if mdOut != "" {
		f, err := os.Create(mdOut)
		if err != nil {
			return err
		}
		rep.WriteMarkdown(f)
		if err := f.Close(); err != nil {
			return err
		}
	}
	if jsonOut == "" {
		fmt.Fprintln(stdout)
		return rep.WriteJSON(stdout)
	}
	f, err := os.Create(jsonOut)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

//go:build unix

package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Config chooses what a run measures and how long.
type Config struct {
	// Short runs every section with tiny loads, as a smoke test: its
	// figures mean nothing.
	Short bool
	// Rounds is how many alternating rounds each comparison runs. Zero
	// means 2 with Short, else 7.
	Rounds int
	// Sections lists the sections to run, by number ("1" to "7"). Nil
	// means all.
	Sections []string
	// Dir is the work directory (binaries, certificate files, storage).
	// Empty means a temporary directory, removed at the end.
	Dir string
	// Progress receives one line per step. Nil means silence.
	Progress io.Writer
	// Holders opens the idle client connections of section 4. Nil means
	// in the calling process, which needs two file descriptors per
	// connection.
	Holders HolderFunc
	// Exe is this program, run as a child with -renew_child DIR
	// -renew_n N (see [RunRenewChild]) under strace to count section 7's
	// fsyncs. Empty means they are not counted.
	Exe string
	// Binaries are the programs sections 3 and 5 run. Zero fields are
	// built with "go build" from the module the command runs in.
	Binaries Binaries
}

// Binaries are the paths of the programs a run starts.
type Binaries struct {
	// NATSServer is nats-server built from the module graph.
	NATSServer string
	// AutoTLS is the reference binary, example/nats-autotls.
	AutoTLS string
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Rounds <= 0 {
		c.Rounds = 7
		if c.Short {
			c.Rounds = 2
		}
	}
	return c
}

// wants reports whether section id should run.
func (c Config) wants(id string) bool {
	return len(c.Sections) == 0 || slices.Contains(c.Sections, id)
}

// Run measures every section the configuration selects and returns the
// report, with the status of each target.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "nats-autotls-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	e, err := newEnv(cfg, dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Date: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU(), Short: cfg.Short, Rounds: cfg.Rounds,
	}
	if cfg.wants("3") || cfg.wants("5") {
		if cfg.Short {
			// Build while the first sections run; wait before returning,
			// since the work directory may be removed then.
			go e.binaries(ctx) // the sections that need them report its error
			defer e.binaries(ctx)
		} else if _, err := e.binaries(ctx); err != nil {
			// Build before measuring, so that no build competes with it.
			return nil, err
		}
	}
	for _, sec := range e.sections() {
		if !cfg.wants(sec.id) && !(sec.id == "1" && cfg.wants("2")) {
			continue
		}
		e.logf("section %s: start", sec.id)
		out, err := sec.run(ctx)
		if err != nil {
			return rep, fmt.Errorf("section %s: %w", sec.id, err)
		}
		rep.Sections = append(rep.Sections, out...)
	}
	slices.SortStableFunc(rep.Sections, func(a, b Section) int { return strings.Compare(a.ID, b.ID) })
	rep.Targets = targets(rep, e)
	return rep, nil
}

// section is one step of a run; steady runs produce two sections.
type section struct {
	id  string
	run func(context.Context) ([]Section, error)
}

func (e *env) sections() []section {
	return []section{
		// Memory first: servers and clients of the other sections leave
		// goroutines and buffers behind whose release would bias the heap
		// figures downwards.
		{"6", e.runMemory},
		{"1", e.runSteady}, // sections 1 and 2
		{"3", e.runRotation},
		{"4", e.runRotationCost},
		{"5", e.runStartup},
		{"7", e.runRenew},
	}
}

// findSection returns the section with the given id, or nil.
func (r *Report) findSection(id string) *Section {
	for i := range r.Sections {
		if r.Sections[i].ID == id {
			return &r.Sections[i]
		}
	}
	return nil
}

// findRow returns the first row of section id whose arm and metric start
// with the given prefixes, or nil.
func (r *Report) findRow(id, arm, metric string) *Row {
	s := r.findSection(id)
	if s == nil {
		return nil
	}
	for i := range s.Rows {
		if strings.HasPrefix(s.Rows[i].Arm, arm) && strings.HasPrefix(s.Rows[i].Metric, metric) {
			return &s.Rows[i]
		}
	}
	return nil
}

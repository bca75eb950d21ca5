//go:build unix

package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// costLoad sizes section 4.
type costLoad struct {
	clients   []int
	rotations int
}

func (e *env) costLoad() costLoad {
	if e.cfg.Short {
		return costLoad{clients: []int{0, 20}, rotations: 5}
	}
	return costLoad{clients: []int{0, 1_000, 10_000}, rotations: 30}
}

// costRun is one arm at one client count.
type costRun struct {
	arm     string
	clients int
	cost    Sample // the swap or ReloadOptions, in microseconds
	total   Sample // Renew, or write + GenTLSConfig + ReloadOptions
}

// runRotationCost runs section 4: the cost of one rotation with 0, 1,000
// and 10,000 idle clients connected, for the project's swap and for
// ReloadOptions; the project at 0 clients runs twice, first and last, as
// the A/A control.
func (e *env) runRotationCost(ctx context.Context) ([]Section, error) {
	load := e.costLoad()
	var runs []costRun
	measure := func(arm string, n int) error {
		run, err := e.costOf(ctx, arm, n, load.rotations)
		if err != nil {
			return fmt.Errorf("%s with %d clients: %w", arm, n, err)
		}
		runs = append(runs, run)
		e.logf("rotation cost: %s, %d clients: p50 %.1f us", arm, n, run.cost.Median())
		return nil
	}
	for _, n := range load.clients {
		for _, arm := range []string{armProject, armReload} {
			if err := measure(arm, n); err != nil {
				return nil, err
			}
		}
	}
	if err := measure(armProject, 0); err != nil {
		return nil, err
	}
	return []Section{costSection(runs, load)}, nil
}

// costSection tabulates section 4; ratios are to the same arm at 0
// clients.
func costSection(runs []costRun, load costLoad) Section {
	sec := Section{ID: "4", Title: "Rotation cost by connected clients", Notes: []string{
		fmt.Sprintf("%d rotations per cell, 20 ms apart; idle clients are TLS NATS connections held by a child process (by this one with -holders_in_process). project cost = the swap (storage write returned -> the installed event's time, taken right after the pointer swap); total = Renew (key, signature, validation, lock, fsync'd write, swap). ReloadOptions cost = the call alone; total adds writing the files and GenTLSConfig.", load.rotations),
		"The last project row at 0 clients is a second run of the first (A/A control); ratios are to the first run of the same arm at 0 clients.",
	}}
	base := map[string]costRun{}
	for i, r := range runs {
		if _, ok := base[r.arm]; !ok && r.clients == 0 {
			base[r.arm] = r
		}
		name := fmt.Sprintf("%s, %d clients", r.arm, r.clients)
		if r.clients == 0 && i == len(runs)-1 {
			name += " (A/A control)"
		}
		metric := "swap"
		if strings.HasPrefix(r.arm, "files") {
			metric = "ReloadOptions"
		}
		b := base[r.arm]
		sec.Rows = append(sec.Rows,
			medianRatio(row(name, metric, "us", r.cost), "0 clients", r.cost, b.cost),
			medianRatio(row(name, "total", "us", r.total), "0 clients", r.total, b.total))
	}
	return sec
}

// medianRatio sets a row's ratio to the ratio of medians of two samples
// not measured in rounds; the range is that of the ratio of quartiles.
func medianRatio(r Row, to string, s, base Sample) Row {
	r.RatioTo = to
	r.Ratio = ratio(s.Median(), base.Median())
	r.RatioLow = ratio(s.Quantile(0.25), base.Quantile(0.75))
	r.RatioHigh = ratio(s.Quantile(0.75), base.Quantile(0.25))
	return r
}

// costOf measures rotations of one arm with n idle clients connected.
func (e *env) costOf(ctx context.Context, arm string, n, rotations int) (costRun, error) {
	run := costRun{arm: arm, clients: n}
	var rot rotator
	var err error
	if arm == armProject {
		rot, err = e.newManagedRotator(ctx)
	} else {
		rot, err = e.newReloadRotator(ctx)
	}
	if err != nil {
		return run, err
	}
	defer rot.close()
	if n > 0 {
		hold := e.cfg.Holders
		if hold == nil {
			hold = InProcessHolders
		}
		release, err := hold(ctx, strings.TrimPrefix(rot.url(), "tls://"), e.caPEM, n)
		if err != nil {
			return run, err
		}
		defer release()
	}
	for range rotations {
		r, err := rot.rotate(ctx)
		if err != nil {
			return run, err
		}
		run.cost.addDur(r.cost)
		run.total.addDur(r.total)
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return run, nil
}

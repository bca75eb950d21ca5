//go:build unix

package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// runRenew runs section 7: a forced Renew on file storage and on memory
// storage, in alternating rounds, with the storage calls each makes.
func (e *env) runRenew(ctx context.Context) ([]Section, error) {
	renews := 50
	if e.cfg.Short {
		renews = 5
	}
	dir, err := e.subdir("renew")
	if err != nil {
		return nil, err
	}
	arms := []struct {
		name string
		st   *stampStorage
	}{
		{"file storage", newStampStorage(tlsmgr.NewFileStorage(dir))},
		{"memory storage", newStampStorage(tlsmgr.NewMemoryStorage())},
	}
	ms := make([]*tlsmgr.Manager, len(arms))
	for i, a := range arms {
		m, err := startManager(ctx, e.managerConfig(a.st, nil))
		if err != nil {
			return nil, err
		}
		defer m.Close()
		ms[i] = m
	}
	before := []map[string]int{arms[0].st.snapshot(), arms[1].st.snapshot()}
	times := make([]Sample, len(arms))
	for range renews {
		for i, m := range ms {
			t := time.Now()
			if err := m.Renew(ctx, tlsmgr.RoleClient); err != nil {
				return nil, fmt.Errorf("%s: %w", arms[i].name, err)
			}
			times[i].addDur(time.Since(t))
		}
	}
	sec := Section{ID: "7", Title: "Renew (private CA) and its storage calls", Notes: []string{
		fmt.Sprintf("%d forced renewals per storage, alternating; per-Renew storage calls counted at the Storage interface. With FileStorage each Store is one fsync'd write (file + directory sync) and each Lock creates a lock file.", renews),
	}}
	if per, ok, err := e.fsyncsPerRenew(ctx, renews); err != nil {
		return nil, err
	} else if ok {
		sec.Rows = append(sec.Rows, count("file storage", "fsync calls per Renew (strace)", "", per))
		sec.Notes = append(sec.Notes, "fsync calls per Renew: a child process renewing on FileStorage under strace, with n renewals minus with none, divided by n; one atomic write syncs the file and its directory (2 calls).")
	}
	for i, a := range arms {
		sec.Rows = append(sec.Rows, row(a.name, "Renew", "us", times[i]).withRatio("memory storage", times[i], times[1]))
		after := a.st.snapshot()
		for _, op := range []string{"store", "lock", "load", "list"} {
			sec.Rows = append(sec.Rows, count(a.name, op+" calls per Renew", "", float64(after[op]-before[i][op])/float64(renews)))
		}
	}
	return []Section{sec}, nil
}

//go:build unix

package bench

import (
	"context"
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// rotationPeriod is how often section 3 rotates.
const rotationPeriod = 100 * time.Millisecond

// A dialAttempt is one new client connection made during a rotation run.
type dialAttempt struct {
	start  time.Time
	certAt time.Time // when the server's certificate arrived
	serial string
	err    error
}

// rotationStats sums the runs of one arm.
type rotationStats struct {
	rotations, failedRotations int
	published, lost            int64
	dials, failedDials, stale  int
	neverVisible               int
	drops                      int64
	cost, total, visible       Sample
	visibleStart, dialToCert   Sample
}

// runRotation runs section 3: each arm, in alternating rounds, serves a
// steady publish load, idle connections and a stream of new connections
// while its certificate is rotated every 100 ms.
func (e *env) runRotation(ctx context.Context) ([]Section, error) {
	dur, rounds := 5*time.Second, min(e.cfg.Rounds, 3)
	if e.cfg.Short {
		dur, rounds = 500*time.Millisecond, 1
	}
	makers := []struct {
		name string
		make func(context.Context) (rotator, error)
	}{
		{armProject, func(ctx context.Context) (rotator, error) { return e.newManagedRotator(ctx) }},
		{armReload, func(ctx context.Context) (rotator, error) { return e.newReloadRotator(ctx) }},
		{armSIGHUP, func(ctx context.Context) (rotator, error) { return e.newHUPRotator(ctx) }},
	}
	stats := make([]rotationStats, len(makers))
	for r := range rounds {
		for i := range makers {
			j := (i + r) % len(makers)
			rot, err := makers[j].make(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", makers[j].name, err)
			}
			err = e.underLoad(ctx, rot, dur, &stats[j])
			rot.close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", makers[j].name, err)
			}
		}
		e.logf("rotation: round %d/%d done", r+1, rounds)
	}
	sec := Section{ID: "3", Title: "Rotation every 100 ms under load", Notes: []string{
		fmt.Sprintf("%d round(s) of %v per arm: a publisher at 2,000 msg/s to a subscriber, 20 idle connections, 2 goroutines dialing new connections, and after each rotation a probe dialing until it sees the new certificate.", rounds, dur),
		"lost = published - received on the long-lived connections; drops = long-lived connections the server closed; stale = a dial that started after the rotation step returned (Renew, ReloadOptions, SIGHUP sent) and got an older certificate.",
		"cost = storage write returned -> the installed event's time, taken right after the pointer swap, for the project (the swap), ReloadOptions for files (GenTLSConfig of the new files not included), none for SIGHUP (asynchronous). visible = certificate durable -> the probe's handshake received it; it includes one dial's time to the certificate (row 'dial to certificate'); 'visible to a dial started after' is when the first dial that got the new certificate started, after the certificate was durable.",
	}}
	for i, m := range makers {
		sec.Rows = append(sec.Rows, stats[i].rows(m.name)...)
	}
	return []Section{sec}, nil
}

func (s *rotationStats) rows(arm string) []Row {
	return []Row{
		count(arm, "rotations", "", float64(s.rotations)),
		count(arm, "failed rotations", "", float64(s.failedRotations)),
		count(arm, "lost messages", fmt.Sprintf("of %d", s.published), float64(s.lost)),
		count(arm, "failed dials", fmt.Sprintf("of %d", s.dials), float64(s.failedDials)),
		count(arm, "stale dials", fmt.Sprintf("of %d", s.dials), float64(s.stale)),
		count(arm, "drops", "", float64(s.drops)),
		count(arm, "never visible", "", float64(s.neverVisible)),
		row(arm, "rotation cost", "us", s.cost),
		row(arm, "rotation step total", "us", s.total),
		row(arm, "visible after", "us", s.visible),
		row(arm, "visible to a dial started after", "us", s.visibleStart),
		row(arm, "dial to certificate", "us", s.dialToCert),
	}
}

// loadRun is the load on one server during a rotation run.
type loadRun struct {
	e    *env
	url  string
	stop chan struct{}
	wg   sync.WaitGroup

	closing             atomic.Bool
	drops               atomic.Int64
	published, received atomic.Int64

	// mu guards dials.
	mu    sync.Mutex
	dials []dialAttempt
}

// underLoad rotates r every rotationPeriod for dur under load and adds the
// outcome to out.
func (e *env) underLoad(ctx context.Context, r rotator, dur time.Duration, out *rotationStats) error {
	l := &loadRun{e: e, url: r.url(), stop: make(chan struct{})}
	first := l.dial()
	if first.err != nil {
		return first.err
	}
	rots := []rotation{{serial: first.serial, ready: first.start, done: first.start}}
	conns, err := l.startLoad()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(dur)
	tick := time.NewTicker(rotationPeriod)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		rot, err := r.rotate(ctx)
		if err != nil {
			out.failedRotations++
			continue
		}
		rots = append(rots, rot)
		l.probe(rot, out)
	}
	tick.Stop()
	close(l.stop)
	l.wg.Wait()
	l.finish(conns, out)
	l.classify(rots, out)
	return nil
}

// startLoad opens the long-lived connections and starts the publisher and
// the dialers.
func (l *loadRun) startLoad() ([]*nats.Conn, error) {
	onDrop := nats.DisconnectErrHandler(func(*nats.Conn, error) {
		if !l.closing.Load() {
			l.drops.Add(1)
		}
	})
	var conns []*nats.Conn
	for range 22 {
		nc, err := connect(l.url, l.e.clientTLS(nil), onDrop)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, nc)
	}
	sub, pub := conns[0], conns[1]
	if _, err := sub.Subscribe("bench.rot", func(*nats.Msg) { l.received.Add(1) }); err != nil {
		closeAll(conns)
		return nil, err
	}
	if err := sub.Flush(); err != nil {
		closeAll(conns)
		return nil, err
	}
	l.wg.Add(3)
	go l.publish(pub)
	go l.dialLoop()
	go l.dialLoop()
	return conns, nil
}

func closeAll(conns []*nats.Conn) {
	for _, nc := range conns {
		nc.Close()
	}
}

// publish sends 2 messages every millisecond until stop.
func (l *loadRun) publish(nc *nats.Conn) {
	defer l.wg.Done()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	payload := make([]byte, 64)
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		for range 2 {
			if nc.Publish("bench.rot", payload) == nil {
				l.published.Add(1)
			}
		}
	}
}

// dialLoop dials new connections one after the other until stop.
func (l *loadRun) dialLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		d := l.dial()
		l.mu.Lock()
		l.dials = append(l.dials, d)
		l.mu.Unlock()
	}
}

// dial makes one new connection and notes the certificate it received.
func (l *loadRun) dial() dialAttempt {
	var d dialAttempt
	d.start = time.Now()
	tc := l.e.clientTLS(func(leaf *x509.Certificate) {
		d.certAt, d.serial = time.Now(), leaf.SerialNumber.String()
	})
	nc, err := connect(l.url, tc)
	if err != nil {
		d.err = err
		return d
	}
	nc.Close()
	return d
}

// probe dials until a connection receives rot's certificate, for at most
// a second, and records how long after the certificate was durable.
func (l *loadRun) probe(rot rotation, out *rotationStats) {
	until := rot.done.Add(time.Second)
	for time.Now().Before(until) {
		d := l.dial()
		l.mu.Lock()
		l.dials = append(l.dials, d)
		l.mu.Unlock()
		if d.err == nil && d.serial == rot.serial {
			out.visible.addDur(d.certAt.Sub(rot.ready))
			out.visibleStart.addDur(max(0, d.start.Sub(rot.ready)))
			out.dialToCert.addDur(d.certAt.Sub(d.start))
			return
		}
	}
	out.neverVisible++
}

// finish waits for the published messages to arrive and closes conns.
func (l *loadRun) finish(conns []*nats.Conn, out *rotationStats) {
	_ = conns[1].Flush()
	deadline := time.Now().Add(5 * time.Second)
	for l.received.Load() < l.published.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	l.closing.Store(true)
	closeAll(conns)
	out.published += l.published.Load()
	out.lost += l.published.Load() - l.received.Load()
	out.drops += l.drops.Load()
}

// classify counts failed and stale dials and adds the rotations' costs.
func (l *loadRun) classify(rots []rotation, out *rotationStats) {
	index := make(map[string]int, len(rots))
	for i, r := range rots {
		index[r.serial] = i
		if i > 0 {
			out.rotations++
			if r.cost > 0 {
				out.cost.addDur(r.cost)
			}
			out.total.addDur(r.total)
		}
	}
	for _, d := range l.dials {
		out.dials++
		if d.err != nil {
			out.failedDials++
			continue
		}
		want := 0
		for i, r := range rots {
			if r.done.Before(d.start) {
				want = i
			}
		}
		if got, ok := index[d.serial]; !ok || got < want {
			out.stale++
		}
	}
}

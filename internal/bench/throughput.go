//go:build unix

package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Arm names shared by the sections.
const (
	armManaged  = "managed"
	armStatic   = "static"
	armControl  = "static control (A/A)"
	armWithRoot = "static, chain with root"
)

// arm is one server under test.
type arm struct {
	name string
	url  string
}

// steadyArms starts the servers that sections 1 and 2 compare: the
// Manager's callback configuration, the same certificate chain from files
// as nats-server loads it (static), an identical static server (the A/A
// control), and a static server whose chain also carries the root. It
// returns them with the length of the chain the managed server sends.
func (e *env) steadyArms(ctx context.Context) ([]arm, int, func(), error) {
	var servers []*server.Server
	stop := func() {
		for _, s := range servers {
			stopServer(s)
		}
	}
	m, err := startManager(ctx, e.managerConfig(tlsmgr.NewMemoryStorage(), nil))
	if err != nil {
		return nil, 0, nil, err
	}
	fail := func(err error) ([]arm, int, func(), error) { stop(); m.Close(); return nil, 0, nil, err }
	served, _, err := m.Current(tlsmgr.RoleClient)
	if err != nil {
		return fail(err)
	}
	dir, err := e.subdir("steady")
	if err != nil {
		return fail(err)
	}
	plain, rooted := newCertFiles(dir, "served"), newCertFiles(dir, "rooted")
	withRoot := *served
	if !endsWithRoot(served.Certificate) {
		withRoot.Certificate = append(append([][]byte(nil), served.Certificate...), e.ca.Certificate().Raw)
	}
	if err := plain.write(served); err != nil {
		return fail(err)
	}
	if err := rooted.write(&withRoot); err != nil {
		return fail(err)
	}
	mo, err := managedOpts(m)
	if err != nil {
		return fail(err)
	}
	var arms []arm
	for _, a := range []struct {
		name  string
		files *certFiles
	}{{armManaged, nil}, {armStatic, &plain}, {armControl, &plain}, {armWithRoot, &rooted}} {
		opts := mo
		if a.files != nil {
			if opts, err = fileOpts(*a.files); err != nil {
				return fail(err)
			}
		}
		s, url, err := startServer(opts)
		if err != nil {
			return fail(err)
		}
		servers = append(servers, s)
		arms = append(arms, arm{a.name, url})
	}
	n, err := e.chainLength(arms[0].url)
	if err != nil {
		return fail(err)
	}
	return arms, n, func() { stop(); m.Close() }, nil
}

// endsWithRoot reports whether a DER chain ends with a self-signed
// certificate.
func endsWithRoot(chain [][]byte) bool {
	if len(chain) < 2 {
		return false
	}
	c, err := x509.ParseCertificate(chain[len(chain)-1])
	return err == nil && c.CheckSignatureFrom(c) == nil
}

// chainLength dials url and returns how many certificates the server sent.
func (e *env) chainLength(url string) (int, error) {
	tc := e.clientTLS(nil)
	var n atomic.Int32
	tc.VerifyConnection = func(cs tls.ConnectionState) error { n.Store(int32(len(cs.PeerCertificates))); return nil }
	nc, err := connect(url, tc)
	if err != nil {
		return 0, err
	}
	nc.Close()
	return int(n.Load()), nil
}

// steadyLoad sizes sections 1 and 2.
type steadyLoad struct{ conns, msgs, reqs int }

func (e *env) steadyLoad() steadyLoad {
	if e.cfg.Short {
		return steadyLoad{conns: 10, msgs: 5_000, reqs: 100}
	}
	return steadyLoad{conns: 70, msgs: 70_000, reqs: 700}
}

// steadyRounds is three times Config.Rounds: short rounds interleave the
// arms more finely, so that a burst of load from elsewhere on the machine
// falls on every arm alike.
func (e *env) steadyRounds() int { return 3 * e.cfg.Rounds }

// steadySamples are the per-round results of one arm.
type steadySamples struct{ connRate, msgRate, reqP50, reqP99 Sample }

// runSteady runs sections 1 and 2: in each round every arm, in an order
// that rotates from round to round, measures the connection rate, then
// publish throughput, then request-reply latency.
func (e *env) runSteady(ctx context.Context) ([]Section, error) {
	arms, chainLen, stop, err := e.steadyArms(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	e.chainLen = chainLen
	load := e.steadyLoad()
	res := make([]steadySamples, len(arms))
	rounds := e.steadyRounds()
	for r := range rounds {
		for i := range arms {
			j := (i + r) % len(arms)
			if err := e.steadyRound(ctx, arms[j], load, &res[j]); err != nil {
				return nil, fmt.Errorf("%s: %w", arms[j].name, err)
			}
		}
		e.logf("steady: round %d/%d done", r+1, rounds)
	}
	return steadySections(arms, res, chainLen, load, rounds), nil
}

// steadyRound measures one arm once.
func (e *env) steadyRound(ctx context.Context, a arm, load steadyLoad, out *steadySamples) error {
	rate, err := e.connRate(a.url, load.conns)
	if err != nil {
		return fmt.Errorf("connection rate: %w", err)
	}
	out.connRate.add(rate)
	if rate, err = e.publishRate(ctx, a.url, load.msgs); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	out.msgRate.add(rate)
	lat, err := e.requestLatency(a.url, load.reqs)
	if err != nil {
		return fmt.Errorf("request-reply: %w", err)
	}
	out.reqP50.add(lat.Quantile(0.5))
	out.reqP99.add(lat.Quantile(0.99))
	return nil
}

// steadySections builds the tables of sections 1 and 2, each arm's ratio
// taken to the static arm of the same rounds.
func steadySections(arms []arm, res []steadySamples, chainLen int, load steadyLoad, rounds int) []Section {
	base := res[1] // armStatic
	s1 := Section{ID: "1", Title: "TLS connection rate (nats.go connect + close, sequential)", Notes: []string{
		fmt.Sprintf("%d rounds of %d connections per arm; the managed listener sends %d certificate(s); ratios are per round against %q, the A/A row is the noise band.", rounds, load.conns, chainLen, armStatic),
	}}
	s2 := Section{ID: "2", Title: "Publish throughput and request-reply latency", Notes: []string{
		fmt.Sprintf("%d messages of 128 B from one connection to one subscriber; %d sequential requests to one responder.", load.msgs, load.reqs),
	}}
	for i, a := range arms {
		x := res[i]
		s1.Rows = append(s1.Rows, row(a.name, "connections", "/s", x.connRate).withRatio(armStatic, x.connRate, base.connRate))
		s2.Rows = append(s2.Rows,
			row(a.name, "publish", "msg/s", x.msgRate).withRatio(armStatic, x.msgRate, base.msgRate),
			row(a.name, "request p50", "us", x.reqP50).withRatio(armStatic, x.reqP50, base.reqP50),
			row(a.name, "request p99", "us", x.reqP99).withRatio(armStatic, x.reqP99, base.reqP99))
	}
	return []Section{s1, s2}
}

// connRate opens and closes n connections one after the other and returns
// connections per second.
func (e *env) connRate(url string, n int) (float64, error) {
	tc := e.clientTLS(nil)
	start := time.Now()
	for range n {
		nc, err := connect(url, tc)
		if err != nil {
			return 0, err
		}
		nc.Close()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// publishRate publishes n messages on one connection to a subscriber on
// another and returns messages per second, until the last one arrived.
func (e *env) publishRate(ctx context.Context, url string, n int) (float64, error) {
	tc := e.clientTLS(nil)
	sub, err := connect(url, tc)
	if err != nil {
		return 0, err
	}
	defer sub.Close()
	pub, err := connect(url, tc)
	if err != nil {
		return 0, err
	}
	defer pub.Close()
	var got atomic.Int64
	done := make(chan struct{})
	s, err := sub.Subscribe("bench.pub", func(*nats.Msg) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	})
	if err != nil {
		return 0, err
	}
	_ = s.SetPendingLimits(-1, -1)
	if err := sub.Flush(); err != nil {
		return 0, err
	}
	payload := make([]byte, 128)
	start := time.Now()
	for range n {
		if err := pub.Publish("bench.pub", payload); err != nil {
			return 0, err
		}
	}
	if err := pub.Flush(); err != nil {
		return 0, err
	}
	select {
	case <-done:
	case <-time.After(waitLimit):
		return 0, fmt.Errorf("received %d of %d messages", got.Load(), n)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// requestLatency sends n requests one after the other to a responder on
// another connection and returns their round-trip times in microseconds.
func (e *env) requestLatency(url string, n int) (Sample, error) {
	tc := e.clientTLS(nil)
	resp, err := connect(url, tc)
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	if _, err := resp.Subscribe("bench.req", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		return nil, err
	}
	if err := resp.Flush(); err != nil {
		return nil, err
	}
	req, err := connect(url, tc)
	if err != nil {
		return nil, err
	}
	defer req.Close()
	payload := make([]byte, 128)
	lat := make(Sample, 0, n)
	for range n {
		t := time.Now()
		if _, err := req.Request("bench.req", payload, 5*time.Second); err != nil {
			return nil, errors.Join(errors.New("request"), err)
		}
		lat.addDur(time.Since(t))
	}
	return lat, nil
}

package bench

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// minScheduleSleep keeps the open-loop senders from waking for every record: a sender
// sleeps at least this long and then sends every record that has come due, each stamped
// with its own intended time, so the sleep shows up in the latency instead of hiding.
const minScheduleSleep = 100 * time.Microsecond

// runOpenLoop sends records on a fixed schedule, w.RateMBps split evenly over the
// clients, for w.Duration or until w.Records are sent. Each record's latency counts
// from the moment the schedule meant to send it, not from when the client accepted it,
// so a stalled broker cannot hide its stall by slowing the sender down (coordinated
// omission).
func (ps *producers) runOpenLoop(ctx context.Context, w Workload) time.Duration {
	n := len(ps.clients)
	interval := time.Duration(float64(time.Second) * float64(n) / w.recordsPerSecond())
	start := ps.m.startedAt
	end := start.Add(w.Duration)
	var wg sync.WaitGroup
	for i, cl := range ps.clients {
		budget := int64(-1) // unbounded: the duration ends the schedule
		if w.Records > 0 {
			budget = w.Records / int64(n)
			if int64(i) < w.Records%int64(n) {
				budget++
			}
		}
		first := start.Add(interval * time.Duration(i) / time.Duration(n)) // stagger clients
		wg.Go(func() { ps.followSchedule(ctx, cl, first, interval, budget, end, w.Records > 0) })
	}
	wg.Wait()
	ps.flush(ctx)
	return time.Since(start)
}

func (ps *producers) followSchedule(ctx context.Context, cl *kgo.Client, next time.Time,
	interval time.Duration, budget int64, end time.Time, byCount bool) {
	for ctx.Err() == nil {
		now := time.Now()
		for !next.After(now) {
			if byCount && budget == 0 || !byCount && !next.Before(end) {
				return
			}
			ps.send(ctx, cl, next)
			next = next.Add(interval)
			budget--
		}
		time.Sleep(max(next.Sub(now), minScheduleSleep))
	}
}

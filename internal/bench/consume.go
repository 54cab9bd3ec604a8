package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeGoal is when a consume phase is done: once it has read records data records, or
// once the records and transaction markers it read cover offsets offsets (everything
// stored when the phase began). Markers take offsets but are not records, so the two
// counts differ after transactional producing.
type consumeGoal struct {
	records, offsets int64
}

// runConsume reads the topic from the start with w.Consumers clients, each owning an
// equal share of the partitions, until want is met or w.Duration passes. It
// returns the time from the start to the last record read.
func runConsume(ctx context.Context, seeds []string, t *benchTopic, w Workload, want consumeGoal, m *meter) (time.Duration, error) {
	shares := splitPartitions(t.partitions, w.Consumers)
	clients := make([]*kgo.Client, 0, len(shares))
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	for _, share := range shares {
		cl, err := kgo.NewClient(w.consumerOptions(seeds, t.name, share)...)
		if err != nil {
			return 0, err
		}
		clients = append(clients, cl)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if w.Duration > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(ctx, m.startedAt.Add(w.Duration))
		defer stop()
	}
	var lastRead atomic.Int64 // unix nanos of the last fetch that returned records
	var controls atomic.Int64 // transaction markers read: they take offsets, not throughput
	lastRead.Store(m.startedAt.UnixNano())
	go cancelWhenIdle(ctx, cancel, &lastRead, w.RequestTimeouts)
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				fetches := cl.PollFetches(ctx)
				fetches.EachError(func(_ string, _ int32, err error) {
					if ctx.Err() == nil {
						m.failed(err)
					}
				})
				var n, b, c int64
				fetches.EachRecord(func(r *kgo.Record) {
					if r.Attrs.IsControl() {
						c++
						return
					}
					n++
					b += int64(len(r.Value) + len(r.Key))
				})
				if n+c == 0 {
					continue
				}
				m.doneMany(n, b)
				lastRead.Store(time.Now().UnixNano())
				read := m.records.Load()
				if read >= want.records || read+controls.Add(c) >= want.offsets {
					cancel()
				}
			}
		})
	}
	wg.Wait()
	return time.Unix(0, lastRead.Load()).Sub(m.startedAt), nil
}

// cancelWhenIdle ends a consume that has read nothing for idle: the records it waits
// for are not coming.
func cancelWhenIdle(ctx context.Context, cancel context.CancelFunc, lastRead *atomic.Int64, idle time.Duration) {
	t := time.NewTicker(idle / 10)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(time.Unix(0, lastRead.Load())) > idle {
				cancel()
				return
			}
		}
	}
}

// splitPartitions deals partitions round-robin into at most n non-empty shares.
func splitPartitions(partitions []int32, n int) [][]int32 {
	n = min(n, len(partitions))
	shares := make([][]int32, n)
	for i, p := range partitions {
		shares[i%n] = append(shares[i%n], p)
	}
	return shares
}

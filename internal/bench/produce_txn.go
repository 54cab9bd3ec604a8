package bench

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// runClosedLoopTxn is runClosedLoop with transactional clients: each produces as fast
// as its buffer drains for the transaction interval, then flushes and commits, until
// w.Duration passes or w.Records are sent. Only committed records count.
func (ps *producers) runClosedLoopTxn(ctx context.Context, w Workload) time.Duration {
	var budget atomic.Int64
	budget.Store(w.Records)
	deadline := ps.m.startedAt.Add(w.Duration)
	var wg sync.WaitGroup
	for _, tc := range ps.txnClients() {
		wg.Go(func() {
			tc.runTransactions(ctx, func(until time.Time) bool {
				for ctx.Err() == nil {
					now := time.Now()
					if !now.Before(until) {
						return true
					}
					if w.Records > 0 {
						if budget.Add(-1) < 0 {
							return false
						}
					} else if !now.Before(deadline) {
						return false
					}
					tc.send(ctx, now)
				}
				return false
			})
		})
	}
	wg.Wait()
	return time.Since(ps.m.startedAt)
}

// runOpenLoopTxn is runOpenLoop with transactional clients: the records keep their
// fixed schedule across transaction boundaries, so the time a client spends flushing
// and committing shows up in the latency of the records that came due meanwhile.
func (ps *producers) runOpenLoopTxn(ctx context.Context, w Workload) time.Duration {
	var wg sync.WaitGroup
	for i, tc := range ps.txnClients() {
		s := newRecordSchedule(w, ps.m.startedAt, i, len(ps.clients))
		wg.Go(func() {
			send := func(intended time.Time) { tc.send(ctx, intended) }
			tc.runTransactions(ctx, func(until time.Time) bool {
				for ctx.Err() == nil {
					now := time.Now()
					if !s.sendDue(now, send) {
						return false
					}
					if !now.Before(until) {
						return true
					}
					wake := s.next
					if until.Before(wake) {
						wake = until
					}
					time.Sleep(max(wake.Sub(now), minScheduleSleep))
				}
				return false
			})
		})
	}
	wg.Wait()
	return time.Since(ps.m.startedAt)
}

// warmUpTxn warms every transactional client up with one committed transaction.
func (ps *producers) warmUpTxn(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ps.timeout)
	defer cancel()
	tcs := ps.txnClients()
	errs := make([]error, len(tcs))
	var wg sync.WaitGroup
	for i, tc := range tcs {
		wg.Go(func() { errs[i] = tc.warmUp(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

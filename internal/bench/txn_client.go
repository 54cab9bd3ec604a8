package bench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// txnClient is one transactional producer client and what its open transaction has
// had acknowledged so far. Acknowledged records count in the meter's throughput only
// once their transaction commits; their latency (intended send to produce ack) is
// recorded at once.
type txnClient struct {
	ps           *producers
	cl           *kgo.Client
	ackedRecords atomic.Int64
	ackedBytes   atomic.Int64
}

func (ps *producers) txnClients() []*txnClient {
	tcs := make([]*txnClient, len(ps.clients))
	for i, cl := range ps.clients {
		tcs[i] = &txnClient{ps: ps, cl: cl}
	}
	return tcs
}

func (tc *txnClient) acked(r *kgo.Record, err error) {
	if err != nil {
		tc.ps.m.failed(err)
		return
	}
	tc.ps.m.latency.Record(time.Since(r.Timestamp))
	tc.ackedRecords.Add(1)
	tc.ackedBytes.Add(int64(len(r.Value) + len(r.Key)))
}

func (tc *txnClient) send(ctx context.Context, intended time.Time) {
	tc.cl.Produce(ctx, &kgo.Record{Value: tc.ps.payload, Timestamp: intended}, tc.acked)
}

// runTransactions begins a transaction, lets produce send records until the
// transaction's time is up, then flushes and commits; and again, until produce reports
// that the phase is over or the client cannot go on.
func (tc *txnClient) runTransactions(ctx context.Context, produce func(until time.Time) (more bool)) {
	for ctx.Err() == nil {
		begun := time.Now()
		if err := tc.cl.BeginTransaction(); err != nil {
			tc.ps.m.failed(err)
			return
		}
		more := produce(begun.Add(tc.ps.txnInterval))
		if !tc.commit(ctx, begun) || !more {
			return
		}
	}
}

// commit flushes and commits the open transaction and counts its records as done, or,
// when the commit fails, as failed and aborts it. It reports whether the client can
// begin another transaction. Ending a transaction is not cancelled with ctx (kgo
// warns that a cancelled EndTransaction leaves the outcome unknown); it is bounded by
// the request timeout instead.
func (tc *txnClient) commit(ctx context.Context, begun time.Time) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tc.ps.timeout)
	defer cancel()
	m := tc.ps.m
	err := tc.cl.Flush(ctx)
	records, bytes := tc.ackedRecords.Swap(0), tc.ackedBytes.Swap(0)
	if err == nil {
		// Always ended, even when empty (then kgo sends nothing), to leave the
		// transaction; only commits of records are timed.
		start := time.Now()
		err = tc.cl.EndTransaction(ctx, kgo.TryCommit)
		if records > 0 {
			m.txns.commitLatency.Record(time.Since(start))
		}
	}
	if err == nil {
		if records > 0 {
			m.doneMany(records, bytes)
			m.txns.committed.Add(1)
			m.txns.length.Record(time.Since(begun))
		}
		return true
	}
	m.failedMany(records, err)
	m.txns.aborted.Add(1)
	if err := tc.cl.AbortBufferedRecords(ctx); err != nil {
		m.failed(err)
		return false
	}
	if err := tc.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		m.failed(err)
		return false
	}
	return true
}

// warmUp commits one transaction of one record, so that the producer id, the
// transaction coordinator and the partition are in place before the clock starts.
func (tc *txnClient) warmUp(ctx context.Context) error {
	if err := tc.cl.BeginTransaction(); err != nil {
		return err
	}
	if err := tc.cl.ProduceSync(ctx, &kgo.Record{Value: tc.ps.payload}).FirstErr(); err != nil {
		_ = tc.cl.AbortBufferedRecords(ctx)
		_ = tc.cl.EndTransaction(context.WithoutCancel(ctx), kgo.TryAbort)
		return err
	}
	return tc.cl.EndTransaction(context.WithoutCancel(ctx), kgo.TryCommit)
}

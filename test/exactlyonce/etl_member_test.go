package exactlyonce_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// etlPipeline is a consume-transform-produce job run by group members through franz-go's
// GroupTransactSession: each transaction produces the transformed records of one poll to
// the output topic and commits the consumed offsets, atomically. Every abortEvery-th
// transaction (counted over all members) is aborted on purpose, which rewinds the member
// to the last committed offsets.
type etlPipeline struct {
	addr          string
	input, output string
	group         string
	abortEvery    int64
	maxPoll       int

	// midTransaction, if set, runs in every transaction after its records are produced
	// and flushed and before it ends; ctx is the member's. It returns whether the
	// transaction must be aborted.
	midTransaction func(ctx context.Context) (abort bool)

	transactions    atomic.Int64 // ended, both ways; numbers the transactions for abortEvery
	committedTxns   atomic.Int64
	abortedTxns     atomic.Int64
	sessionRestarts atomic.Int64

	mu            sync.Mutex
	sessionErrors []string         // why sessions were restarted, for the log
	committedBy   map[string]int64 // committed transactions per transactional id
}

// transformed is what the pipeline writes for an input value.
func transformed(v string) string { return "etl(" + v + ")" }

// runMember runs one member until ctx is done. A session that fails (a fencing or
// unrecoverable error after a broker crash) is closed and replaced by a new one with
// the same transactional id, which fences the old producer and resumes from the group's
// committed offsets — what a real exactly-once application does.
func (p *etlPipeline) runMember(ctx context.Context, txnID string) {
	for ctx.Err() == nil {
		if err := p.runSession(ctx, txnID); err != nil {
			p.sessionRestarts.Add(1)
			p.mu.Lock()
			p.sessionErrors = append(p.sessionErrors, fmt.Sprintf("%s: %v", txnID, err))
			p.mu.Unlock()
		}
	}
}

// runSession runs transactions until ctx is done (nil) or one fails (the error).
// Transactions are never left open: ctx is checked only between them.
func (p *etlPipeline) runSession(ctx context.Context, txnID string) error {
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(p.addr),
		kgo.TransactionalID(txnID),
		kgo.TransactionTimeout(20*time.Second),
		kgo.ConsumerGroup(p.group),
		kgo.ConsumeTopics(p.input),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.SessionTimeout(10*time.Second),
	)
	if err != nil {
		return err
	}
	defer sess.Close()
	for ctx.Err() == nil {
		pollCtx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		fetches := sess.PollRecords(pollCtx, p.maxPoll)
		cancel()
		if fetches.IsClientClosed() {
			return errors.New("client closed")
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := p.transact(ctx, sess, txnID, fetches); err != nil {
			return err
		}
	}
	return nil
}

// transact runs one transaction over the records of one poll.
func (p *etlPipeline) transact(memberCtx context.Context, sess *kgo.GroupTransactSession, txnID string,
	fetches kgo.Fetches) error {
	if err := sess.Begin(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	var (
		produceErrMu sync.Mutex
		produceErr   error
	)
	fetches.EachRecord(func(r *kgo.Record) {
		out := &kgo.Record{Topic: p.output, Key: r.Key, Value: []byte(transformed(string(r.Value)))}
		sess.Produce(context.Background(), out, func(_ *kgo.Record, err error) {
			if err != nil {
				produceErrMu.Lock()
				produceErr = errors.Join(produceErr, err)
				produceErrMu.Unlock()
			}
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sess.Client().Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	forceAbort := p.midTransaction != nil && p.midTransaction(memberCtx)
	produceErrMu.Lock()
	defer produceErrMu.Unlock()
	try := kgo.TryCommit
	if p.transactions.Add(1)%p.abortEvery == 0 || produceErr != nil || forceAbort {
		try = kgo.TryAbort
	}
	committed, err := sess.End(ctx, try)
	if err != nil {
		return fmt.Errorf("end (commit=%v): %w", try, err)
	}
	if committed {
		p.committedTxns.Add(1)
		p.mu.Lock()
		p.committedBy[txnID]++
		p.mu.Unlock()
	} else {
		p.abortedTxns.Add(1)
	}
	if produceErr != nil {
		return fmt.Errorf("produce: %w", produceErr)
	}
	return nil
}

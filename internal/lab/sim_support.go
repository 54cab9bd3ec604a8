package lab

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// This file holds what the web console's delivery simulator needs from the lab: a
// producing application whose work arrives while it runs, a way to follow a growing
// history, and the final read as a step of its own.

// LiveProducer is a producing application whose work arrives on demand, the simulator's:
// Add queues more values and a running incarnation delivers them with the settings'
// client options. Its batches are never compressed, so that an observer of the proxy can
// read the values in every Produce request.
type LiveProducer struct {
	p *Producer

	mu    sync.Mutex
	more  chan struct{} // closed and replaced by Add
	stops map[*Incarnation]context.CancelFunc
}

// NewLiveProducer prepares the application with cfg.Values values queued (usually 0).
func NewLiveProducer(cfg ProducerConfig) *LiveProducer {
	return &LiveProducer{p: NewProducer(cfg), more: make(chan struct{}), stops: map[*Incarnation]context.CancelFunc{}}
}

// Add queues n more values and returns them, in the order they will be sent.
func (lp *LiveProducer) Add(n int) []string {
	p := lp.p
	p.mu.Lock()
	values := make([]string, 0, n)
	for i := 0; i < n; i++ {
		idx := p.cfg.Values
		p.cfg.Values++
		p.queue = append(p.queue, idx)
		_, v := p.value(idx)
		values = append(values, v)
	}
	p.mu.Unlock()
	lp.mu.Lock()
	close(lp.more)
	lp.more = make(chan struct{})
	lp.mu.Unlock()
	return values
}

// Confirmed is how many values the application saw confirmed.
func (lp *LiveProducer) Confirmed() int { return lp.p.Confirmed() }

// Settled reports whether every value added so far is confirmed or given up.
func (lp *LiveProducer) Settled() bool { return lp.p.Settled() }

// WaitConfirmed waits until at least n values are confirmed, every value is settled, or
// ctx ends.
func (lp *LiveProducer) WaitConfirmed(ctx context.Context, n int) error {
	return lp.p.WaitConfirmed(ctx, n)
}

func (lp *LiveProducer) queued() bool {
	lp.p.mu.Lock()
	defer lp.p.mu.Unlock()
	return len(lp.p.queue) > 0
}

func (lp *LiveProducer) moreCh() <-chan struct{} {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.more
}

// Start runs a new incarnation against bootstrap. It delivers what is queued, then waits
// for more, until ctx ends or it crashes. A transactional incarnation that could not begin
// or end a transaction (fenced, or its coordinator refused) ends, its values queued again
// for the next incarnation; Done tells when. End it with LiveProducer.Crash, not
// Incarnation.Crash, which would wait for it forever.
func (lp *LiveProducer) Start(ctx context.Context, bootstrap string) (*Incarnation, error) {
	p := lp.p
	// AlwaysRetryEOF: the simulator may drop the answer to the very first request of a
	// connection, which franz-go otherwise takes for a missing SASL setup and never
	// retries.
	in, err := p.newIncarnation(bootstrap, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.AlwaysRetryEOF())
	if err != nil {
		return nil, err
	}
	cl := in.cl
	ctx, stop := context.WithCancel(ctx)
	lp.mu.Lock()
	lp.stops[in] = stop
	lp.mu.Unlock()
	go func() {
		defer close(in.done)
		defer cl.Close()
		defer func() {
			lp.mu.Lock()
			delete(lp.stops, in)
			lp.mu.Unlock()
			stop()
		}()
		for ctx.Err() == nil && !in.retired.Load() {
			more := lp.moreCh()
			if !lp.queued() {
				select {
				case <-more:
				case <-ctx.Done():
				}
				continue
			}
			if !p.cfg.Settings.Transactional {
				in.run(ctx)
				continue
			}
			lp.runTransactions(ctx, in)
			return
		}
	}()
	return in, nil
}

// runTransactions is Incarnation.runTransactions for work that arrives while it runs: it
// waits for values rather than returning when none is queued, so that the incarnation's
// transactions are numbered once (Txn.Num is unique per incarnation). It returns when ctx
// ends, the incarnation retires, or a transaction could not be begun or ended, leaving
// the values it could not deliver queued for the next incarnation.
func (lp *LiveProducer) runTransactions(ctx context.Context, in *Incarnation) {
	for num := 0; ctx.Err() == nil && !in.retired.Load(); {
		more := lp.moreCh()
		idxs := in.take(ctx, in.p.cfg.TxnSize)
		if len(idxs) == 0 {
			select {
			case <-more:
			case <-ctx.Done():
			}
			continue
		}
		if !in.transaction(ctx, num, idxs) {
			return
		}
		num++
	}
}

// Crash ends an incarnation of lp abruptly, as Incarnation.Crash does: its client closes
// without flushing or ending its transaction, and its unconfirmed values go back to the
// queue for the next incarnation.
func (lp *LiveProducer) Crash(in *Incarnation) {
	lp.mu.Lock()
	stop := lp.stops[in]
	delete(lp.stops, in)
	lp.mu.Unlock()
	if stop != nil {
		stop()
	}
	in.Crash()
}

// Done is closed when the incarnation ended.
func (in *Incarnation) Done() <-chan struct{} { return in.done }

// HistoryCursor says how much of a growing history a reader has already seen.
type HistoryCursor struct {
	Sends, Txns, Polls, Commits, Processed int
}

// Since returns what was recorded after cur, as a history holding only the new entries,
// and the cursor past them.
func (r *Recorder) Since(cur HistoryCursor) (*History, HistoryCursor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := &History{Topic: r.h.Topic, Partitions: r.h.Partitions}
	h.Sends = append([]Send(nil), r.h.Sends[min(cur.Sends, len(r.h.Sends)):]...)
	h.Txns = append([]Txn(nil), r.h.Txns[min(cur.Txns, len(r.h.Txns)):]...)
	h.Polls = append([]Poll(nil), r.h.Polls[min(cur.Polls, len(r.h.Polls)):]...)
	h.Commits = append([]Commit(nil), r.h.Commits[min(cur.Commits, len(r.h.Commits)):]...)
	h.Processed = append([]Processed(nil), r.h.Processed[min(cur.Processed, len(r.h.Processed)):]...)
	next := HistoryCursor{Sends: len(r.h.Sends), Txns: len(r.h.Txns), Polls: len(r.h.Polls),
		Commits: len(r.h.Commits), Processed: len(r.h.Processed)}
	return h, next
}

// AddFinalRead reads every partition of topic from its start to its end (the last stable
// offset when readCommitted) within timeout and appends the reads to h as its final
// polls. Partitions read to their end are marked complete only when markComplete is set:
// a reader that takes the final read while values are still in flight leaves it unset, so
// that an acknowledged value the read could not reach yet counts as unseen, not lost.
func AddFinalRead(ctx context.Context, h *History, bootstrap, topic string, readCommitted, markComplete bool, timeout time.Duration) error {
	lc, err := readAll(ctx, bootstrap, topic, readCommitted, timeout)
	if err != nil {
		return fmt.Errorf("final read of %s: %w", topic, err)
	}
	lc.appendTo(h, readCommitted, markComplete)
	return nil
}

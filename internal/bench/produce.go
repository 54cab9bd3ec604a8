package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// producers are the kgo clients of one produce phase, all writing the same payload.
type producers struct {
	clients []*kgo.Client
	payload []byte
	m       *meter
	timeout time.Duration
	// txnInterval is how long a transaction produces before it commits; zero when the
	// clients are not transactional.
	txnInterval time.Duration
}

func newProducers(seeds []string, topic string, w Workload, m *meter) (*producers, error) {
	opts, err := w.producerOptions(seeds, topic)
	if err != nil {
		return nil, err
	}
	ps := &producers{payload: make([]byte, w.RecordSize), m: m, timeout: w.RequestTimeouts}
	_, _ = rand.Read(ps.payload) // incompressible, so compression cannot flatter a result
	var txnIDs transactionalIDs
	if w.Transactional {
		ps.txnInterval = w.TxnInterval
		m.txns = &txnMeter{}
		txnIDs = newTransactionalIDs()
	}
	for i := range w.Producers {
		cl, err := kgo.NewClient(txnIDs.withID(opts, i)...)
		if err != nil {
			ps.close()
			return nil, err
		}
		ps.clients = append(ps.clients, cl)
	}
	return ps, nil
}

// acked is every record's promise: the latency is measured from the record's
// Timestamp, which the senders set to the time the record was meant to be sent.
func (ps *producers) acked(r *kgo.Record, err error) {
	if err != nil {
		ps.m.failed(err)
		return
	}
	ps.m.latency.Record(time.Since(r.Timestamp))
	ps.m.done(len(r.Value) + len(r.Key))
}

func (ps *producers) send(ctx context.Context, cl *kgo.Client, intended time.Time) {
	cl.Produce(ctx, &kgo.Record{Value: ps.payload, Timestamp: intended}, ps.acked)
}

// flush waits until every buffered record is acknowledged or failed.
func (ps *producers) flush(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, ps.timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, cl := range ps.clients {
		wg.Go(func() { _ = cl.Flush(ctx) })
	}
	wg.Wait()
}

func (ps *producers) close() {
	for _, cl := range ps.clients {
		cl.Close()
	}
}

// runClosedLoop produces as fast as the clients' buffers drain, for w.Duration or until
// w.Records are sent, then waits for the last acknowledgements. Latency here includes
// the time a record waits in the client's buffer, so it measures queueing more than the
// broker; the fixed-rate phase is the latency measurement.
func (ps *producers) runClosedLoop(ctx context.Context, w Workload) time.Duration {
	var budget atomic.Int64
	budget.Store(w.Records)
	deadline := ps.m.startedAt.Add(w.Duration)
	var wg sync.WaitGroup
	for _, cl := range ps.clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				now := time.Now()
				if w.Records > 0 {
					if budget.Add(-1) < 0 {
						return
					}
				} else if now.After(deadline) {
					return
				}
				ps.send(ctx, cl, now)
			}
		})
	}
	wg.Wait()
	ps.flush(ctx)
	return time.Since(ps.m.startedAt)
}

// warmUp sends one record from every client and waits for it, so that connections,
// metadata and producer ids are in place before the clock starts. Warm-up records are
// not counted; they stay in the topic.
func (ps *producers) warmUp(ctx context.Context) error {
	if ps.txnInterval > 0 {
		return ps.warmUpTxn(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, ps.timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(ps.clients))
	for i, cl := range ps.clients {
		wg.Go(func() { errs[i] = cl.ProduceSync(ctx, &kgo.Record{Value: ps.payload}).FirstErr() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

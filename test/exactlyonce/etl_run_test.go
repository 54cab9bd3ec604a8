package exactlyonce_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// crashMidTransaction makes the first transaction that reaches its end once
// committedTxns has passed each threshold ask for a crash on the returned channel and
// wait, with its records produced and the transaction open, until the receiver closes
// the channel it was sent (the broker has been killed and restarted). The transaction
// interrupted by the first crash is then aborted, the others are committed.
func crashMidTransaction(p *etlPipeline, thresholds []int64) <-chan chan struct{} {
	requests := make(chan chan struct{})
	var next atomic.Int64
	p.midTransaction = func(ctx context.Context) (abort bool) {
		i := next.Load()
		if i >= int64(len(thresholds)) || p.committedTxns.Load() < thresholds[i] || !next.CompareAndSwap(i, i+1) {
			return false
		}
		crashed := make(chan struct{})
		select {
		case requests <- crashed:
		case <-ctx.Done():
			return false
		}
		select {
		case <-crashed:
		case <-ctx.Done():
		}
		return i == 0
	}
	return requests
}

// prefillInput produces n unique values to topic, spread round-robin over its partitions.
func prefillInput(t *testing.T, addr, topic string, n int) []string {
	t.Helper()
	cl := testbroker.OpenClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	defer cl.Close()
	values := make([]string, n)
	var (
		mu       sync.Mutex
		firstErr error
	)
	for i := range values {
		values[i] = fmt.Sprintf("in-%05d", i)
		cl.Produce(context.Background(), kgo.StringRecord(values[i]), func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	if err := cl.Flush(testContext(t, 30*time.Second)); err != nil {
		t.Fatalf("flushing the input: %v", err)
	}
	if firstErr != nil {
		t.Fatalf("producing the input: %v", firstErr)
	}
	return values
}

// runMembers starts one member per transactional id; the returned func stops them and
// waits up to 60s for them to finish their current transactions and leave the group.
func runMembers(t *testing.T, p *etlPipeline, txnIDs ...string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, id := range txnIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.runMember(ctx, id)
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Error("etl members did not stop within 60s")
			}
		})
	}
}

func (p *etlPipeline) summary(kills []string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%d transactions committed %v, %d aborted, %d session restarts %q, kills: %s",
		p.committedTxns.Load(), p.committedBy, p.abortedTxns.Load(), p.sessionRestarts.Load(), p.sessionErrors,
		strings.Join(kills, ", "))
}

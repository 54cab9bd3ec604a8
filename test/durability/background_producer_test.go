package durability_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/lab"
)

// backgroundProducer sends unique values ("<prefix>-<n>") as fast as the client buffers
// them, from a goroutine, recording every outcome as a lab send. It runs until stopped, so
// faults land while produces are in flight; it can be paused so that a check sees no new
// values, while the client keeps retrying what it already holds.
type backgroundProducer struct {
	cl       *kgo.Client
	rec      *lab.Recorder
	sent     atomic.Int64
	acked    atomic.Int64 // sends that ended OK
	resolved atomic.Int64 // sends that ended, whatever their outcome
	done     chan struct{}

	mu      sync.Mutex
	resumed *sync.Cond
	paused  bool
	stopped bool
}

func startBackgroundProducer(cl *kgo.Client, topic string, partitions int32, prefix string) *backgroundProducer {
	bp := &backgroundProducer{cl: cl, rec: lab.NewRecorder(topic, partitions), done: make(chan struct{})}
	bp.resumed = sync.NewCond(&bp.mu)
	go func() {
		defer close(bp.done)
		for i := 0; bp.waitUnpaused(); i++ {
			seq, start := i, time.Now()
			// Produce blocks while the client's buffer is full, which paces the loop.
			cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("%s-%08d", prefix, i))},
				func(r *kgo.Record, err error) {
					bp.rec.Send(producedSend(seq, start, r, err))
					if err == nil {
						bp.acked.Add(1)
					}
					bp.resolved.Add(1)
				})
			bp.sent.Add(1)
		}
	}()
	return bp
}

// waitUnpaused blocks while paused and reports whether the loop should go on.
func (bp *backgroundProducer) waitUnpaused() bool {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	for bp.paused && !bp.stopped {
		bp.resumed.Wait()
	}
	return !bp.stopped
}

// pause stops new values from being sent without waiting (the loop may be blocked in
// Produce while the broker is down); at most one more value is sent.
func (bp *backgroundProducer) pause() { bp.setState(true, false) }

func (bp *backgroundProducer) resume() { bp.setState(false, false) }

func (bp *backgroundProducer) setState(paused, stopped bool) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	bp.paused, bp.stopped = paused, stopped || bp.stopped
	bp.resumed.Broadcast()
}

// unresolved counts values sent that have no outcome yet.
func (bp *backgroundProducer) unresolved() int {
	return int(bp.sent.Load() - bp.resolved.Load())
}

// waitAcked waits until n values have been acknowledged, failing the test after timeout.
func (bp *backgroundProducer) waitAcked(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	waitUntil(t, timeout, fmt.Sprintf("the producer to get %d acks", n),
		func() bool { return bp.acked.Load() >= n })
}

// abandon ends the loop without waiting, for tests that failed midway.
func (bp *backgroundProducer) abandon() { bp.setState(false, true) }

// stop ends the loop and waits until every value sent has an outcome.
func (bp *backgroundProducer) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	bp.setState(false, true)
	waitClosed(t, bp.done, timeout, "the producer loop to end")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := bp.cl.Flush(ctx); err != nil {
		t.Fatalf("flushing the producer: %v", err)
	}
}

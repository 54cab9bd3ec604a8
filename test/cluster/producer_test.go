package cluster_test

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

// producerWindow bounds the values in flight, so that the loop waits on the window, not
// inside kgo's Produce, and stops at once when asked.
const producerWindow = 1000

// clusterProducer is one idempotent acks=all franz-go client for the whole test,
// retrying without limit, that sends unique values ("<prefix>-<n>") round-robin over the
// topic's partitions from a goroutine until stopped, and records every outcome in a lab
// history. Every error a produce ended with is kept.
type clusterProducer struct {
	cl    *kgo.Client
	rec   *lab.Recorder
	acked atomic.Int64
	stopc chan struct{}
	done  chan struct{}

	mu   sync.Mutex
	errs []error
}

func startClusterProducer(t *testing.T, seeds []string, topic string, partitions int32, prefix string) *clusterProducer {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.RequiredAcks(kgo.AllISRAcks()), // and idempotence, kgo's default
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(2*time.Millisecond),
		// A leader that moved is found again quickly; kgo's default minimum age is 5 s.
		kgo.MetadataMinAge(100*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
	)
	if err != nil {
		t.Fatal(err)
	}
	cp := &clusterProducer{cl: cl, rec: lab.NewRecorder(topic, partitions), stopc: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() {
		cp.halt()
		cl.Close()
	})
	window := make(chan struct{}, producerWindow)
	go func() {
		defer close(cp.done)
		for i := 0; ; i++ {
			select {
			case window <- struct{}{}:
			case <-cp.stopc:
				return
			}
			seq, start := i, time.Now()
			r := &kgo.Record{Topic: topic, Partition: int32(i) % partitions, Value: fmt.Appendf(nil, "%s-%08d", prefix, i)}
			cl.Produce(context.Background(), r, func(r *kgo.Record, err error) {
				cp.rec.Send(lab.ProducedSend(1, seq, lab.NoTxn, start, r, err))
				if err == nil {
					cp.acked.Add(1)
				} else {
					cp.mu.Lock()
					cp.errs = append(cp.errs, err)
					cp.mu.Unlock()
				}
				<-window
			})
		}
	}()
	return cp
}

// waitAcked waits until n values have been acknowledged, failing the test after timeout.
func (cp *clusterProducer) waitAcked(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for cp.acked.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for the producer's ack %d (%d so far; produce errors: %v)",
				timeout, n, cp.acked.Load(), firstFew(cp.errors()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (cp *clusterProducer) halt() {
	select {
	case <-cp.stopc:
	default:
		close(cp.stopc)
	}
}

// stop ends the loop and waits, within timeout, until every value sent has an outcome.
func (cp *clusterProducer) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	cp.halt()
	<-cp.done // the loop waits on nothing but the window and stopc
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := cp.cl.Flush(ctx); err != nil {
		t.Fatalf("flushing the producer: %v (acked %d)", err, cp.acked.Load())
	}
}

// errors returns every error a produce ended with so far.
func (cp *clusterProducer) errors() []error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]error(nil), cp.errs...)
}

// firstFew keeps messages short when many items are listed.
func firstFew[T any](items []T) []T {
	if len(items) > 5 {
		return items[:5]
	}
	return items
}

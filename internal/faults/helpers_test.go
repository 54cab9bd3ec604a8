package faults_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

const produceKey = int16(kmsg.Produce)

// plainProducer is a producer that retries but cannot deduplicate: a retry of a request
// the broker wrote is written again.
func plainProducer(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	return testbroker.NewClient(t, addr, append([]kgo.Opt{kgo.DisableIdempotentWrite()}, quickRetries(opts...)...)...)
}

// quickRetries adds to opts what makes a franz-go client retry at once after a fault: no
// linger, a short backoff, and metadata refreshes not held back by kgo's 5s minimum age.
func quickRetries(opts ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{
		kgo.ProducerLinger(0),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
		kgo.MetadataMinAge(10 * time.Millisecond),
	}, opts...)
}

// produce writes one record with value v to topic and fails the test unless it is acked.
func produce(t *testing.T, cl *kgo.Client, topic, v string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
		t.Fatalf("producing %q: %v", v, err)
	}
}

// newProxy starts a proxy in front of addr for the test.
func newProxy(t *testing.T, addr string) *faults.Proxy {
	t.Helper()
	p, err := faults.NewProxy(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// waitUntil checks cond every few milliseconds until it holds, failing the test with what
// was awaited once timeout has passed.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ledger records which values a producer had acknowledged.
type ledger struct {
	mu     sync.Mutex
	acked  []string
	failed []error
}

func (l *ledger) record(v string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed = append(l.failed, fmt.Errorf("%s: %w", v, err))
		return
	}
	l.acked = append(l.acked, v)
}

func (l *ledger) counts() (acked, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), len(l.failed)
}

func (l *ledger) ackedValues() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...)
}

// missing lists the acked values not found.
func missing(acked []string, found map[string]int) []string {
	var out []string
	for _, v := range acked {
		if found[v] == 0 {
			out = append(out, v)
		}
	}
	return out
}

func isTimeout(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

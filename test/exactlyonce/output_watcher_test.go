package exactlyonce_test

import (
	"context"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// committedWatcher follows a topic with a read_committed consumer and counts the
// distinct values it has seen, so that a test can wait until the output covers its input.
type committedWatcher struct {
	mu       sync.Mutex
	distinct map[string]bool
	records  int
}

// watchCommitted starts following topic from its start; it stops when the test ends.
func watchCommitted(t *testing.T, addr, topic string) *committedWatcher {
	t.Helper()
	w := &committedWatcher{distinct: map[string]bool{}}
	cl := testbroker.OpenClient(t, addr,
		kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fetches := cl.PollFetches(ctx)
			w.mu.Lock()
			fetches.EachRecord(func(r *kgo.Record) {
				w.records++
				w.distinct[string(r.Value)] = true
			})
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		cl.Close()
	})
	return w
}

// Distinct is the number of distinct values seen so far.
func (w *committedWatcher) Distinct() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.distinct)
}

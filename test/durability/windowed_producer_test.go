package durability_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/lab"
)

// produceWindowed sends n unique values ("<prefix>-<i>") with at most window of them
// unresolved at a time, so that they travel in many small produce requests, and waits
// until every one has an outcome. The recorder holds the outcomes.
func produceWindowed(t *testing.T, cl *kgo.Client, topic string, partitions int32, prefix string, n, window int, timeout time.Duration) *lab.Recorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rec := lab.NewRecorder(topic, partitions)
	slots := make(chan struct{}, window)
	for i := 0; i < n; i++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			t.Fatalf("producing %s: %d of %d values sent when the %v deadline passed", topic, i, n, timeout)
		}
		seq, start := i, time.Now()
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("%s-%06d", prefix, i))}, func(r *kgo.Record, err error) {
			rec.Send(producedSend(seq, start, r, err))
			<-slots
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("producing %s: flush: %v", topic, err)
	}
	return rec
}

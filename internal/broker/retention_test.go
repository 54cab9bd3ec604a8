package broker_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestRetentionBySize writes several segments' worth to a topic with small segment.bytes
// and retention.bytes and waits for the log start offset to move past the old segments,
// while the newest records stay readable.
func TestRetentionBySize(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithMaintenanceInterval(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr(), kgo.ProducerBatchCompression(kgo.NoCompression()))
	createTopic(ctx, t, cl, "retained", 1, map[string]*string{
		"segment.bytes":   kmsg.StringPtr("1048576"),
		"retention.bytes": kmsg.StringPtr("1048576"),
	})
	value := bytes.Repeat([]byte("x"), 10_000)
	const n = 500 // about 5 MB: several 1 MiB segments
	for i := 0; i < n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "retained", Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Retention keeps whole segments: once it has caught up with the last produce, at most
	// about two segments' worth remains. It may already have run while the producer was
	// writing, so an early log start offset is only a step on the way.
	adm := kadm.NewClient(cl)
	var logStart int64
	for logStart < n-250 {
		start, err := adm.ListStartOffsets(ctx, "retained")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := start.Lookup("retained", 0)
		if logStart = o.Offset; logStart >= n-250 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("log start offset still %d: too much kept for retention.bytes=1MiB", logStart)
		case <-time.After(50 * time.Millisecond):
		}
	}
	last := readAll(ctx, t, b.Addr(), "retained", 1)
	if len(last) == 0 {
		t.Fatal("nothing readable after retention")
	}
}

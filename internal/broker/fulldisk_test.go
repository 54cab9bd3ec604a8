package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
	"github.com/waybill/waybill/internal/vfs"
)

// TestFullDiskRefusesWritesAndKeepsAckedData fills the disk under a partition: produces
// then fail with KAFKA_STORAGE_ERROR, the broker keeps serving, and after a restart with
// room again every acknowledged record is there.
func TestFullDiskRefusesWritesAndKeepsAckedData(t *testing.T) {
	disk := vfs.NewNoSpace(0)
	full := vfs.NewSwitch(disk)
	b := testbroker.Start(t, testbroker.WithFS(vfs.WithErrors(vfs.Default, full)))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := newClient(t, b.Addr())
	createTopic(ctx, t, admin, "full", 1, nil)

	producer := newClient(t, b.Addr(), kgo.RecordRetries(0), kgo.RequestRetries(0))
	var acked []string
	for i := 0; i < 50; i++ {
		v := fmt.Sprintf("before-%d", i)
		if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "full", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce before the disk filled: %v", err)
		}
		acked = append(acked, v)
	}

	full.On()
	err := producer.ProduceSync(ctx, &kgo.Record{Topic: "full", Value: []byte("after")}).FirstErr()
	if err != kerr.KafkaStorageError {
		t.Fatalf("produce on a full disk: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if err := admin.Ping(ctx); err != nil {
		t.Fatalf("broker stopped serving on a full disk: %v", err)
	}
	if got := readAll(ctx, t, b.Addr(), "full", len(acked)); !equalStrings(got, acked) {
		t.Fatalf("read %d records on a full disk, want the %d acked", len(got), len(acked))
	}

	b.Stop()
	b.StartAgain(testbroker.WithFS(vfs.Default))
	producer2 := newClient(t, b.Addr())
	if err := producer2.ProduceSync(ctx, &kgo.Record{Topic: "full", Value: []byte("after-restart")}).FirstErr(); err != nil {
		t.Fatalf("produce after restart with room: %v", err)
	}
	acked = append(acked, "after-restart")
	if got := readAll(ctx, t, b.Addr(), "full", len(acked)); !equalStrings(got, acked) {
		t.Fatalf("after restart read %v, want %v", got, acked)
	}
}

// readAll reads want records of a one-partition topic from the start.
func readAll(ctx context.Context, t *testing.T, addr, topic string, want int) []string {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	var got []string
	for len(got) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records: %v", len(got), want, ctx.Err())
		}
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

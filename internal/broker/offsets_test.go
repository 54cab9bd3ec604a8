package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestListOffsetsByTime produces records with chosen timestamps across several batches and
// checks earliest, latest, by-timestamp and max-timestamp lookups land on exact records.
func TestListOffsetsByTime(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr(), kgo.ProducerLinger(0))
	createTopic(ctx, t, cl, "times", 1, nil)
	base := time.UnixMilli(1_700_000_000_000)
	// Offsets 0..9 at base+0s..base+9s, except offset 6 which carries the largest time.
	for i := 0; i < 10; i++ {
		ts := base.Add(time.Duration(i) * time.Second)
		if i == 6 {
			ts = base.Add(time.Hour)
		}
		r := &kgo.Record{Topic: "times", Value: []byte(fmt.Sprint(i)), Timestamp: ts}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	check := func(name string, got kadm.ListedOffsets, wantOffset int64) {
		t.Helper()
		o, ok := got.Lookup("times", 0)
		if !ok || o.Err != nil {
			t.Fatalf("%s: %v %v", name, ok, o.Err)
		}
		if o.Offset != wantOffset {
			t.Fatalf("%s: offset %d, want %d", name, o.Offset, wantOffset)
		}
	}
	start, err := adm.ListStartOffsets(ctx, "times")
	if err != nil {
		t.Fatal(err)
	}
	check("earliest", start, 0)
	end, err := adm.ListEndOffsets(ctx, "times")
	if err != nil {
		t.Fatal(err)
	}
	check("latest", end, 10)
	at, err := adm.ListOffsetsAfterMilli(ctx, base.Add(3500*time.Millisecond).UnixMilli(), "times")
	if err != nil {
		t.Fatal(err)
	}
	check("after 3.5s", at, 4)
	max := maxTimestampOffset(ctx, t, cl, "times")
	if max != 6 {
		t.Fatalf("max timestamp offset %d, want 6", max)
	}
	none, err := adm.ListOffsetsAfterMilli(ctx, base.Add(2*time.Hour).UnixMilli(), "times")
	if err != nil {
		t.Fatal(err)
	}
	// The broker answers -1 (no such record), which kadm reports as the end offset.
	check("after the last record", none, 10)
}

func maxTimestampOffset(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -3
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].Offset
}

// TestDeleteRecordsAndLogAppendTime covers DeleteRecords moving the log start offset (and
// keeping it across a restart) and message.timestamp.type=LogAppendTime stamping records.
func TestDeleteRecordsAndLogAppendTime(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr())
	createTopic(ctx, t, cl, "stamped", 1, map[string]*string{"message.timestamp.type": kmsg.StringPtr("LogAppendTime")})
	old := time.UnixMilli(1_000_000_000_000)
	before := time.Now().Add(-time.Second)
	for i := 0; i < 5; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "stamped", Value: []byte(fmt.Sprint(i)), Timestamp: old}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	deleted, err := adm.DeleteRecords(ctx, kadm.Offsets{"stamped": {0: {At: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := deleted.Lookup("stamped", 0); d.Err != nil || d.LowWatermark != 3 {
		t.Fatalf("delete records: %+v", d)
	}
	b.Restart()
	cl2 := newClient(t, b.Addr(), kgo.ConsumeTopics("stamped"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []*kgo.Record
	for len(got) < 2 {
		fetches := cl2.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records: %v", len(got), ctx.Err())
		}
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, r) })
	}
	if got[0].Offset != 3 || string(got[0].Value) != "3" {
		t.Fatalf("first record after DeleteRecords and restart: offset %d value %s", got[0].Offset, got[0].Value)
	}
	for _, r := range got {
		if r.Timestamp.Before(before) || r.Timestamp.After(time.Now().Add(time.Second)) {
			t.Fatalf("record %d timestamp %v: not the broker's append time", r.Offset, r.Timestamp)
		}
	}
}

package broker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/testbroker"
)

// produceRaw sends one batch to partition 0 of topic with acks=all at the highest
// version both sides support, and returns the partition's response.
func produceRaw(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	resp, err := produceRequest(topic, batch).RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}

func produceRequest(topic string, batch []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = append([]byte(nil), batch...)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// recordErrorIndexes are the batch indexes of a response's KIP-467 record errors.
func recordErrorIndexes(p kmsg.ProduceResponseTopicPartition) []int32 {
	var out []int32
	for _, e := range p.ErrorRecords {
		out = append(out, e.RelativeOffset)
	}
	return out
}

func sameIndexes(a, b []int32) bool {
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

func TestCompactedTopicRejectsRecordsWithoutKeys(t *testing.T) {
	b := testbroker.Start(t)
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(ctx, t, cl, "compacted-keys", 1, map[string]*string{"cleanup.policy": kmsg.StringPtr("compact")})

	now := time.Now().UnixMilli()
	for _, codec := range []string{"uncompressed", "zstd"} {
		batch := records.Build(records.BuildOptions{BaseTimestamp: now}, []records.Record{
			{Key: []byte("a"), Value: []byte("1")},
			{Value: []byte("no key")},
			{Key: []byte("c"), Value: []byte("3")},
			{Value: []byte("no key either")},
		})
		if codec == "zstd" {
			batch = recompressed(t, batch, records.CodecZstd)
		}
		p := produceRaw(ctx, t, cl, "compacted-keys", batch)
		if p.ErrorCode != kerr.InvalidRecord.Code {
			t.Fatalf("%s: error %v, want INVALID_RECORD", codec, kerr.ErrorForCode(p.ErrorCode))
		}
		if got := recordErrorIndexes(p); !sameIndexes(got, []int32{1, 3}) {
			t.Fatalf("%s: record errors at %v, want [1 3]", codec, got)
		}
		if p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, "2 record errors") ||
			!strings.Contains(*p.ErrorRecords[0].ErrorMessage, "without key in topic partition compacted-keys-0") {
			t.Fatalf("%s: messages %v / %+v", codec, p.ErrorMessage, p.ErrorRecords)
		}
	}

	// A real client sees the error, and keyed records still go in.
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: "compacted-keys", Value: []byte("keyless")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("franz-go produce without key: %v, want INVALID_RECORD", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "compacted-keys", Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce with key: %v", err)
	}
	if end := listEnd(ctx, t, cl, "compacted-keys"); end != 1 {
		t.Fatalf("log end %d, want 1: only the keyed record is stored", end)
	}
}

func TestProduceRejectsTimestampsOutOfRange(t *testing.T) {
	b := testbroker.Start(t)
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(ctx, t, cl, "bounded-time", 1, map[string]*string{
		"message.timestamp.before.max.ms": kmsg.StringPtr("3600000"), // an hour back
		"message.timestamp.after.max.ms":  kmsg.StringPtr("60000"),   // a minute ahead
	})
	createTopic(ctx, t, cl, "old-style-bound", 1, map[string]*string{
		"message.timestamp.difference.max.ms": kmsg.StringPtr("10000"),
	})
	createTopic(ctx, t, cl, "append-time", 1, map[string]*string{
		"message.timestamp.type":         kmsg.StringPtr("LogAppendTime"),
		"message.timestamp.after.max.ms": kmsg.StringPtr("0"),
	})

	now := time.Now().UnixMilli()
	hour := time.Hour.Milliseconds()
	// Deltas relative to now: fine, two hours old, fine, an hour ahead.
	batch := records.Build(records.BuildOptions{BaseTimestamp: now}, []records.Record{
		{TimestampDelta: 0, Value: []byte("now")},
		{TimestampDelta: -2 * hour, Value: []byte("too old")},
		{TimestampDelta: -30 * 60_000, Value: []byte("half an hour old")},
		{TimestampDelta: hour, Value: []byte("too new")},
	})
	cases := []struct {
		name, topic string
		batch       []byte
		want        int16
		errorsAt    []int32
	}{
		{"uncompressed", "bounded-time", batch, kerr.InvalidTimestamp.Code, []int32{1, 3}},
		{"recompressed gzip", "bounded-time", recompressed(t, batch, records.CodecGzip), kerr.InvalidTimestamp.Code, []int32{1, 3}},
		{"difference.max.ms", "old-style-bound", batch, kerr.InvalidTimestamp.Code, []int32{1, 2, 3}},
		{"LogAppendTime ignores them", "append-time", batch, 0, nil},
	}
	for _, tc := range cases {
		p := produceRaw(ctx, t, cl, tc.topic, tc.batch)
		if p.ErrorCode != tc.want {
			t.Fatalf("%s: error %v, want %v", tc.name, kerr.ErrorForCode(p.ErrorCode), kerr.ErrorForCode(tc.want))
		}
		if got := recordErrorIndexes(p); !sameIndexes(got, tc.errorsAt) {
			t.Fatalf("%s: record errors at %v, want %v", tc.name, got, tc.errorsAt)
		}
		if tc.want != 0 && (p.ErrorMessage == nil || *p.ErrorMessage != "One or more records have been rejected due to invalid timestamp") {
			t.Fatalf("%s: error message %v", tc.name, p.ErrorMessage)
		}
		if len(p.ErrorRecords) > 0 && !strings.Contains(*p.ErrorRecords[0].ErrorMessage, "is out of range") {
			t.Fatalf("%s: record message %q", tc.name, *p.ErrorRecords[0].ErrorMessage)
		}
	}
	for topic, want := range map[string]int64{"bounded-time": 0, "old-style-bound": 0, "append-time": 4} {
		if end := listEnd(ctx, t, cl, topic); end != want {
			t.Fatalf("%s: log end %d, want %d", topic, end, want)
		}
	}

	// Before KIP-467 (Produce v7) the code alone comes back.
	c := dialRaw(t, b.Addr())
	req := produceRequest("bounded-time", batch)
	req.Version = 7
	c.send(int16(kmsg.Produce), 7, req.AppendTo(nil))
	frame, err := c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	if err := resp.ReadFrom(frame[4:]); err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidTimestamp.Code {
		t.Fatalf("Produce v7: error %v, want INVALID_TIMESTAMP", kerr.ErrorForCode(code))
	}
}

// recompressed is batch with its records compressed with codec, as a client would send.
func recompressed(t *testing.T, batch []byte, codec records.Codec) []byte {
	t.Helper()
	h, err := records.ParseHeader(batch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := records.Recompress(batch, h, codec, 0, records.RecordRules{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/testbroker"
)

// storedCodecs fetches partition 0 of topic from offset 0 with a raw Fetch and returns
// the codec of every whole batch the broker sent, straight from the batch headers.
func storedCodecs(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) []records.Codec {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 100, 1, 64<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, topicID(ctx, t, cl, topic) // Fetch v13+ names topics by id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 64 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(p.ErrorCode))
	}
	var codecs []records.Codec
	for rest := p.RecordBatches; len(rest) > 0; {
		h, err := records.ParseHeader(rest)
		if err != nil || h.Size() > len(rest) {
			break // a partial batch at the end of the response
		}
		codecs = append(codecs, h.Codec())
		rest = rest[h.Size():]
	}
	return codecs
}

func topicID(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) [16]byte {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, mt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("metadata of %s: %v %v", topic, err, kerr.ErrorForCode(resp.Topics[0].ErrorCode))
	}
	return resp.Topics[0].TopicID
}

// produceAndRead writes n keyed records with producer compression codec and reads them
// back with franz-go, checking values, order and offsets.
func produceAndRead(ctx context.Context, t *testing.T, addr, topic string, codec kgo.CompressionCodec, n int) {
	t.Helper()
	producer := newClient(t, addr, kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(5*time.Millisecond))
	for i := 0; i < n; i++ {
		producer.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i % 10)),
			Value:   []byte(fmt.Sprintf("value-%05d", i)),
			Headers: []kgo.RecordHeader{{Key: "i", Value: []byte(fmt.Sprint(i))}}}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	consumer := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for got := 0; got < n; {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d: %v", got, n, ctx.Err())
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		fetches.EachRecord(func(r *kgo.Record) {
			want := fmt.Sprintf("value-%05d", got)
			if r.Offset != int64(got) || string(r.Value) != want || len(r.Headers) != 1 ||
				string(r.Headers[0].Value) != fmt.Sprint(got) {
				t.Fatalf("record at %d: offset %d value %q headers %v", got, r.Offset, r.Value, r.Headers)
			}
			got++
		})
	}
}

func TestTopicCompressionTypeRecompresses(t *testing.T) {
	b := testbroker.Start(t)
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cases := []struct {
		topic, compression string
		level              map[string]*string
		sent               kgo.CompressionCodec
		want               records.Codec
	}{
		{"to-zstd", "zstd", map[string]*string{"compression.zstd.level": kmsg.StringPtr("9")}, kgo.SnappyCompression(), records.CodecZstd},
		{"gzip-to-uncompressed", "uncompressed", nil, kgo.GzipCompression(), records.CodecNone},
		{"to-lz4", "lz4", nil, kgo.NoCompression(), records.CodecLZ4},
		{"to-snappy", "snappy", nil, kgo.ZstdCompression(), records.CodecSnappy},
		{"kept-as-sent", "producer", nil, kgo.GzipCompression(), records.CodecGzip},
	}
	for _, tc := range cases {
		t.Run(tc.topic, func(t *testing.T) {
			configs := map[string]*string{"compression.type": kmsg.StringPtr(tc.compression)}
			for k, v := range tc.level {
				configs[k] = v
			}
			createTopic(ctx, t, cl, tc.topic, 1, configs)
			produceAndRead(ctx, t, b.Addr(), tc.topic, tc.sent, 300)
			codecs := storedCodecs(ctx, t, cl, tc.topic)
			if len(codecs) == 0 {
				t.Fatal("fetch returned no whole batch")
			}
			for i, c := range codecs {
				if c != tc.want {
					t.Fatalf("batch %d stored with codec %d, want %d", i, c, tc.want)
				}
			}
		})
	}
}

// TestIdempotentRetryToRecompressingTopic resends an idempotent batch, as a producer
// does after a lost acknowledgement: the recompressed copy still carries the producer's
// id, epoch and sequence, so the retry gets the original offset and is stored once.
func TestIdempotentRetryToRecompressingTopic(t *testing.T) {
	b := testbroker.Start(t)
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(ctx, t, cl, "idempotent-zstd", 1, map[string]*string{"compression.type": kmsg.StringPtr("zstd")})

	init := kmsg.NewPtrInitProducerIDRequest()
	ir, err := init.RequestWith(ctx, cl)
	if err != nil || ir.ErrorCode != 0 {
		t.Fatalf("InitProducerID: %v %v", err, kerr.ErrorForCode(ir.ErrorCode))
	}
	batchAt := func(seq int32, values ...string) []byte {
		var recs []records.Record
		for _, v := range values {
			recs = append(recs, records.Record{Key: []byte(v), Value: []byte(v)})
		}
		return records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli(),
			Producer: &records.ProducerFields{ID: ir.ProducerID, Epoch: ir.ProducerEpoch, BaseSequence: seq}}, recs)
	}
	first := batchAt(0, "a", "b", "c")
	second := recompressed(t, batchAt(3, "d", "e"), records.CodecGzip)
	sends := []struct {
		batch []byte
		base  int64
	}{{first, 0}, {first, 0}, {second, 3}, {second, 3}, {first, 0}}
	for i, s := range sends {
		p := produceRaw(ctx, t, cl, "idempotent-zstd", s.batch)
		if p.ErrorCode != 0 || p.BaseOffset != s.base {
			t.Fatalf("send %d: error %v, base offset %d, want %d", i, kerr.ErrorForCode(p.ErrorCode), p.BaseOffset, s.base)
		}
	}
	if end := listEnd(ctx, t, cl, "idempotent-zstd"); end != 5 {
		t.Fatalf("log end %d, want 5: retries were stored again", end)
	}
	for i, c := range storedCodecs(ctx, t, cl, "idempotent-zstd") {
		if c != records.CodecZstd {
			t.Fatalf("batch %d stored with codec %d, want zstd", i, c)
		}
	}
	got := readAll(ctx, t, b.Addr(), "idempotent-zstd", 5)
	if !equalStrings(got, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("read %v", got)
	}
}

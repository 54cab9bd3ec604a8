package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestRoundTripEveryCodec produces to several partitions with each compression codec,
// with the client defaults (acks=all, idempotent), and reads everything back in order.
func TestRoundTripEveryCodec(t *testing.T) {
	b := testbroker.Start(t)
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			topic := "roundtrip-" + name
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			adm := kadm.NewClient(newClient(t, b.Addr()))
			if _, err := adm.CreateTopic(ctx, 4, 1, nil, topic); err != nil {
				t.Fatal(err)
			}
			producer := newClient(t, b.Addr(), kgo.ProducerBatchCompression(codec),
				kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
			const n = 2000
			for i := 0; i < n; i++ {
				producer.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i % 7)),
					Value:   []byte(fmt.Sprintf("value-%05d", i)),
					Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(name)}}}, func(_ *kgo.Record, err error) {
					if err != nil {
						t.Errorf("produce: %v", err)
					}
				})
			}
			if err := producer.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			consumer := newClient(t, b.Addr(), kgo.ConsumeTopics(topic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			seen := map[string]bool{}
			lastOffset := map[int32]int64{}
			for len(seen) < n {
				fetches := consumer.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					t.Fatalf("consumed %d of %d: %v", len(seen), n, err)
				}
				fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
				fetches.EachRecord(func(r *kgo.Record) {
					if last, ok := lastOffset[r.Partition]; ok && r.Offset != last+1 {
						t.Errorf("partition %d: offset %d after %d", r.Partition, r.Offset, last)
					}
					lastOffset[r.Partition] = r.Offset
					if seen[string(r.Value)] {
						t.Errorf("duplicate %s", r.Value)
					}
					if len(r.Headers) != 1 || string(r.Headers[0].Value) != name {
						t.Errorf("headers %v", r.Headers)
					}
					seen[string(r.Value)] = true
				})
			}
			if len(lastOffset) != 4 {
				t.Errorf("records landed on %d partitions, want 4", len(lastOffset))
			}
		})
	}
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

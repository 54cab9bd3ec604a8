package compat_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// kafkaGoCodecs are the compression codecs the kafka-go Writer is run with; 0 is none.
var kafkaGoCodecs = []struct {
	name  string
	codec kafka.Compression
}{
	{"none", 0},
	{"gzip", kafka.Gzip},
	{"snappy", kafka.Snappy},
	{"lz4", kafka.Lz4},
	{"zstd", kafka.Zstd},
}

// kafkaGoWrite writes keys[i]=values[i] with a kafka-go Writer (acks=all, the given
// codec) and returns the records at the partitions and offsets its produce responses
// reported.
func kafkaGoWrite(ctx context.Context, t *testing.T, addr, topic string, codec kafka.Compression, keys, values []string) []record {
	t.Helper()
	var mu sync.Mutex
	var acked []record
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		RequiredAcks: kafka.RequireAll,
		Compression:  codec,
		// The default waits up to 1 s to fill a batch; WriteMessages hands over
		// everything at once, so a short linger loses nothing.
		BatchTimeout: 5 * time.Millisecond,
		Completion: func(msgs []kafka.Message, err error) {
			if err != nil {
				return // WriteMessages returns it too
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				acked = append(acked, record{Partition: int32(m.Partition), Offset: m.Offset, Key: string(m.Key), Value: string(m.Value)})
			}
		},
	}
	msgs := make([]kafka.Message, len(keys))
	for i := range keys {
		msgs[i] = kafka.Message{Key: []byte(keys[i]), Value: []byte(values[i])}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("kafka-go WriteMessages (%v): %v", codec, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("closing kafka-go writer: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	assertSameKeyValues(t, acked, keys, values)
	sortByPartitionOffset(acked)
	return acked
}

package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestKafkaGoGroupReaderResumesAfterRestart: kafka-go Writers with every compression
// codec fill a 3-partition topic; a Reader with a GroupID reads it all back and commits;
// after the Reader (and, in one case, the broker too) restarts, a new Reader of the
// same group reads only what was written since.
func TestKafkaGoGroupReaderResumesAfterRestart(t *testing.T) {
	t.Parallel()
	for _, restartBroker := range []bool{false, true} {
		name := "reader restart"
		if restartBroker {
			name = "reader and broker restart"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const topic, group, partitions = "kafkago", "kafkago-g", 3
			ctx := testContext(t)
			b := startBroker(t)
			createTopic(ctx, t, b.Addr(), topic, partitions)

			start := map[int32]int64{0: 0, 1: 0, 2: 0}
			var allKeys, allValues []string
			for _, c := range kafkaGoCodecs {
				keys, values := keyedValues("before-"+c.name, 20)
				acked := kafkaGoWrite(ctx, t, b.Addr(), topic, c.codec, keys, values)
				assertContiguous(t, acked, start)
				start = nextOffsets(acked, start)
				allKeys, allValues = append(allKeys, keys...), append(allValues, values...)
			}
			end := endOffsets(ctx, t, b.Addr(), topic)
			assertOffsetsEqual(t, "end offsets after the writes", end, start)

			got := kafkaGoReadAndCommit(ctx, t, b, topic, group, len(allKeys))
			assertSameKeyValues(t, got, allKeys, allValues)
			assertContiguous(t, got, map[int32]int64{0: 0, 1: 0, 2: 0})
			assertOffsetsEqual(t, "committed offsets after the reader closed", committedOffsets(ctx, t, b.Addr(), group, topic), end)

			keys, values := keyedValues("after", 15)
			acked := kafkaGoWrite(ctx, t, b.Addr(), topic, kafka.Zstd, keys, values)
			assertContiguous(t, acked, end)
			if restartBroker {
				b.Restart()
			}
			got = kafkaGoReadAndCommit(ctx, t, b, topic, group, len(keys))
			assertSameKeyValues(t, got, keys, values)
			assertContiguous(t, got, end)
			assertOffsetsEqual(t, "committed offsets after the second reader closed", committedOffsets(ctx, t, b.Addr(), group, topic), nextOffsets(acked, end))
		})
	}
}

// kafkaGoReadAndCommit joins group with a kafka-go Reader, fetches n records, commits
// them in one synchronous commit and closes the Reader (leaving the group).
func kafkaGoReadAndCommit(ctx context.Context, t *testing.T, b *testbroker.Broker, topic, group string, n int) []record {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{b.Addr()},
		GroupID: group,
		Topic:   topic,
		// The default long poll is 10 s; Close waits for it.
		MaxWait:     250 * time.Millisecond,
		StartOffset: kafka.FirstOffset,
	})
	var msgs []kafka.Message
	var got []record
	for len(msgs) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			r.Close()
			t.Fatalf("kafka-go FetchMessage after %d of %d records: %v", len(msgs), n, err)
		}
		msgs = append(msgs, m)
		got = append(got, record{Partition: int32(m.Partition), Offset: m.Offset, Key: string(m.Key), Value: string(m.Value)})
	}
	if err := r.CommitMessages(ctx, msgs...); err != nil {
		t.Errorf("kafka-go CommitMessages: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("closing kafka-go reader: %v", err)
	}
	return got
}

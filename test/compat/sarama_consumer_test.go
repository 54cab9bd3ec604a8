package compat_test

import (
	"testing"

	"github.com/IBM/sarama"
)

// TestSaramaConsumerReadsPartitionsFromOldest: sarama's plain consumer reads every
// partition from OffsetOldest and gets back exactly what the producer had acknowledged,
// at the acknowledged offsets, and the high watermark the broker reports.
func TestSaramaConsumerReadsPartitionsFromOldest(t *testing.T) {
	t.Parallel()
	for _, v := range saramaVersions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			const topic, partitions = "sarama-plain", 3
			ctx := testContext(t)
			b := startBroker(t)
			createTopic(ctx, t, b.Addr(), topic, partitions)
			cfg := newSaramaConfig(t, v.version)

			keys, values := keyedValues("plain", 24)
			sent := saramaProduce(t, cfg, b.Addr(), topic, partitions, keys, values)
			end := endOffsets(ctx, t, b.Addr(), topic)
			assertAckedOffsetsContiguous(t, sent, map[int32]int64{0: 0, 1: 0, 2: 0}, end)

			consumer, err := sarama.NewConsumer([]string{b.Addr()}, cfg)
			if err != nil {
				t.Fatalf("sarama.NewConsumer: %v", err)
			}
			defer consumer.Close()
			// Open every partition first so their fetches run together.
			pcs := make([]sarama.PartitionConsumer, partitions)
			for p := range pcs {
				pcs[p], err = consumer.ConsumePartition(topic, int32(p), sarama.OffsetOldest)
				if err != nil {
					t.Fatalf("ConsumePartition %d: %v", p, err)
				}
				defer pcs[p].AsyncClose()
			}
			var got []record
			for p, pc := range pcs {
				want := sumOffsets(end, int32(p))
				for int64(len(got)) < want {
					select {
					case msg := <-pc.Messages():
						got = append(got, record{Partition: msg.Partition, Offset: msg.Offset, Key: string(msg.Key), Value: string(msg.Value)})
					case err := <-pc.Errors():
						t.Fatalf("partition %d: %v", p, err)
					case <-ctx.Done():
						t.Fatalf("partition %d: read %d records in all before the deadline, want %d", p, len(got), want)
					}
				}
				if hw := pc.HighWaterMarkOffset(); hw != end[int32(p)] {
					t.Errorf("partition %d: consumer saw high watermark %d, want %d", p, hw, end[int32(p)])
				}
			}
			assertSameKeyValues(t, got, keys, values)
			assertContiguous(t, got, nil)
			for i := range got {
				if got[i] != sent[i] {
					t.Errorf("record %d: read %+v, producer was acknowledged %+v", i, got[i], sent[i])
				}
			}
		})
	}
}

// sumOffsets is the number of records in partitions 0..last, all starting at offset 0.
func sumOffsets(end map[int32]int64, last int32) int64 {
	var n int64
	for p := int32(0); p <= last; p++ {
		n += end[p]
	}
	return n
}

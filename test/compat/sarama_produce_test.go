package compat_test

import (
	"testing"

	"github.com/IBM/sarama"
)

// saramaProduce sends keys[i]=values[i] to partition i%partitions through one
// SyncProducer.SendMessages call and returns the records with the offsets the broker
// acknowledged.
func saramaProduce(t *testing.T, cfg *sarama.Config, addr, topic string, partitions int32, keys, values []string) []record {
	t.Helper()
	producer, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama.NewSyncProducer: %v", err)
	}
	defer func() {
		if err := producer.Close(); err != nil {
			t.Errorf("closing sarama producer: %v", err)
		}
	}()
	msgs := make([]*sarama.ProducerMessage, len(keys))
	for i := range keys {
		msgs[i] = &sarama.ProducerMessage{
			Topic:     topic,
			Partition: int32(i) % partitions,
			Key:       sarama.StringEncoder(keys[i]),
			Value:     sarama.StringEncoder(values[i]),
		}
	}
	if err := producer.SendMessages(msgs); err != nil {
		t.Fatalf("sarama SendMessages: %v", err)
	}
	sent := make([]record, len(msgs))
	for i, m := range msgs {
		sent[i] = record{Partition: m.Partition, Offset: m.Offset, Key: keys[i], Value: values[i]}
	}
	sortByPartitionOffset(sent)
	return sent
}

// assertAckedOffsetsContiguous checks that the acknowledged offsets continue each
// partition's log from start without gap or repeat and that the broker's end offsets
// agree.
func assertAckedOffsetsContiguous(t *testing.T, sent []record, start, end map[int32]int64) {
	t.Helper()
	assertContiguous(t, sent, start)
	assertOffsetsEqual(t, "end offset after produce", end, nextOffsets(sent, start))
}

package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// TestConfluentKafkaGoGroupResumesFromCommittedOffsets: confluent-kafka-go (its bundled
// librdkafka) produces with an idempotent acks=all Producer to a 3-partition topic; a
// group Consumer reads everything from the earliest offset, commits and closes; a new
// Consumer of the group then reads exactly what was produced afterwards.
func TestConfluentKafkaGoGroupResumesFromCommittedOffsets(t *testing.T) {
	t.Parallel()
	_, libVersion := kafka.LibraryVersion()
	t.Logf("confluent-kafka-go with librdkafka %s", libVersion)
	ctx := testContext(t)
	b := startBroker(t)
	const topic, group = "confluent-go", "confluent-go-g"
	createTopic(ctx, t, b.Addr(), topic, 3)

	zero := map[int32]int64{0: 0, 1: 0, 2: 0}
	keys, values := keyedValues("before", 30)
	sent := confluentGoProduce(ctx, t, b.Addr(), topic, keys, values)
	assertAckedOffsetsContiguous(t, sent, zero, endOffsets(ctx, t, b.Addr(), topic))

	got := confluentGoConsume(ctx, t, b.Addr(), topic, group, len(keys))
	assertSameKeyValues(t, got, keys, values)
	assertContiguous(t, got, zero)
	end := endOffsets(ctx, t, b.Addr(), topic)
	assertOffsetsEqual(t, "committed offsets after the consumer closed", committedOffsets(ctx, t, b.Addr(), group, topic), end)

	keys, values = keyedValues("after", 12)
	sent = confluentGoProduce(ctx, t, b.Addr(), topic, keys, values)
	assertAckedOffsetsContiguous(t, sent, end, endOffsets(ctx, t, b.Addr(), topic))
	got = confluentGoConsume(ctx, t, b.Addr(), topic, group, len(keys))
	assertSameKeyValues(t, got, keys, values)
	assertContiguous(t, got, end)
}

// confluentGoProduce produces keys[i]=values[i] and returns the records at the offsets
// of their delivery reports, sorted by partition and offset.
func confluentGoProduce(ctx context.Context, t *testing.T, addr, topic string, keys, values []string) []record {
	t.Helper()
	cfg := kafka.ConfigMap{
		"bootstrap.servers":  addr,
		"enable.idempotence": true,
		"acks":               "all",
	}
	logs := watchRdkafkaLogs(cfg)
	p, err := kafka.NewProducer(&cfg)
	if err != nil {
		t.Fatalf("kafka.NewProducer: %v", err)
	}
	defer logs.check(t)
	defer p.Close()
	reports := make(chan kafka.Event, len(keys))
	for i := range keys {
		msg := &kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
			Key:            []byte(keys[i]),
			Value:          []byte(values[i]),
		}
		if err := p.Produce(msg, reports); err != nil {
			t.Fatalf("Produce: %v", err)
		}
	}
	var sent []record
	for len(sent) < len(keys) {
		select {
		case ev := <-reports:
			m, ok := ev.(*kafka.Message)
			if !ok {
				t.Fatalf("unexpected delivery event %v", ev)
			}
			if m.TopicPartition.Error != nil {
				t.Fatalf("delivery of %q failed: %v", m.Key, m.TopicPartition.Error)
			}
			sent = append(sent, record{Partition: m.TopicPartition.Partition, Offset: int64(m.TopicPartition.Offset), Key: string(m.Key), Value: string(m.Value)})
		case ev := <-p.Events():
			if err, ok := ev.(kafka.Error); ok {
				t.Fatalf("producer error: %v", err)
			}
		case <-ctx.Done():
			t.Fatalf("%d of %d delivery reports before the deadline", len(sent), len(keys))
		}
	}
	assertSameKeyValues(t, sent, keys, values)
	sortByPartitionOffset(sent)
	return sent
}

// confluentGoConsume joins group, reads n records, commits them synchronously and
// closes the consumer (leaving the group).
func confluentGoConsume(ctx context.Context, t *testing.T, addr, topic, group string, n int) []record {
	t.Helper()
	cfg := kafka.ConfigMap{
		"bootstrap.servers":  addr,
		"group.id":           group,
		"auto.offset.reset":  "earliest",
		"enable.auto.commit": false,
	}
	c, logs := newConfluentGoConsumer(t, cfg)
	closed := false
	defer func() {
		if !closed {
			c.Close()
		}
		logs.check(t)
	}()
	if err := c.Subscribe(topic, nil); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	var got []record
	for len(got) < n {
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before the deadline", len(got), n)
		}
		m, err := c.ReadMessage(500 * time.Millisecond)
		if err != nil {
			if kerr, ok := err.(kafka.Error); ok && kerr.IsTimeout() {
				continue
			}
			t.Fatalf("ReadMessage after %d of %d records: %v", len(got), n, err)
		}
		got = append(got, record{Partition: m.TopicPartition.Partition, Offset: int64(m.TopicPartition.Offset), Key: string(m.Key), Value: string(m.Value)})
	}
	if _, err := c.Commit(); err != nil {
		t.Errorf("Commit: %v", err)
	}
	closed = true
	if err := c.Close(); err != nil {
		t.Errorf("closing consumer: %v", err)
	}
	return got
}

// newConfluentGoConsumer makes a consumer of cfg whose log a watch collects.
func newConfluentGoConsumer(t *testing.T, cfg kafka.ConfigMap) (*kafka.Consumer, *rdkafkaLogWatch) {
	t.Helper()
	logs := watchRdkafkaLogs(cfg)
	c, err := kafka.NewConsumer(&cfg)
	if err != nil {
		t.Fatalf("kafka.NewConsumer: %v", err)
	}
	return c, logs
}

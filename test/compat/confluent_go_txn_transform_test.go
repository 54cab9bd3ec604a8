package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// TestConfluentKafkaGoTransactionalConsumeTransformProduce: a read_committed group
// Consumer reads half of a 2-partition input; a transactional Producer writes one
// transformed record per input and SendOffsetsToTransaction's the consumer's offsets,
// then commits: the group's committed offsets are the consumer's position. The other
// half is processed the same way but aborted: the committed offsets do not move, so a
// new Consumer of the group reads that half again, and its transaction commits.
func TestConfluentKafkaGoTransactionalConsumeTransformProduce(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startBroker(t)
	const input, output, group = "confluent-go-ctp-in", "confluent-go-ctp-out", "confluent-go-ctp-g"
	createTopic(ctx, t, b.Addr(), input, 2)
	createTopic(ctx, t, b.Addr(), output, 3)
	inputValues := txnValues("input", 20)
	produceInput(ctx, t, b.Addr(), input, 0, inputValues[:10])
	produceInput(ctx, t, b.Addr(), input, 1, inputValues[10:])
	p := newConfluentTxnProducer(ctx, t, b.Addr(), "confluent-go-ctp-producer")

	consumer := newConfluentTxnConsumer(t, b.Addr(), group, input)
	firstHalf := consumer.read(ctx, 10)
	p.begin()
	p.send(output, transformed("first", firstHalf.values()))
	p.sendOffsets(firstHalf.next(nil), consumer.c)
	p.commit()
	committed := stableCommittedOffsets(ctx, t, b.Addr(), group, input)
	assertOffsetsEqual(t, "committed offsets after the first transaction", committed, offsetsByPartition(firstHalf.next(nil)))

	secondHalf := consumer.read(ctx, 10)
	p.begin()
	p.send(output, transformed("aborted", secondHalf.values()))
	p.sendOffsets(secondHalf.next(firstHalf), consumer.c)
	p.abort()
	assertOffsetsEqual(t, "committed offsets after the aborted transaction", stableCommittedOffsets(ctx, t, b.Addr(), group, input), committed)
	consumer.close()

	retry := newConfluentTxnConsumer(t, b.Addr(), group, input)
	again := retry.read(ctx, 10)
	assertSameValues(t, "the group consumer after the abort", again.values(), secondHalf.values())
	p.begin()
	p.send(output, transformed("retried", again.values()))
	p.sendOffsets(again.next(firstHalf), retry.c)
	p.commit()
	assertOffsetsEqual(t, "committed offsets after the retried transaction", stableCommittedOffsets(ctx, t, b.Addr(), group, input), endOffsets(ctx, t, b.Addr(), input))
	retry.close()

	assertTransactionOutcome(ctx, t, b.Addr(), output,
		append(transformed("first", firstHalf.values()), transformed("retried", again.values())...),
		transformed("aborted", secondHalf.values()))
}

// confluentTxnConsumer is a read_committed group Consumer that never commits itself:
// its offsets are committed by a transaction.
type confluentTxnConsumer struct {
	t      *testing.T
	c      *kafka.Consumer
	closed bool
}

func newConfluentTxnConsumer(t *testing.T, addr, group, topic string) *confluentTxnConsumer {
	t.Helper()
	cfg := kafka.ConfigMap{
		"bootstrap.servers":  addr,
		"group.id":           group,
		"auto.offset.reset":  "earliest",
		"enable.auto.commit": false,
		"isolation.level":    "read_committed",
	}
	logs := watchRdkafkaLogs(cfg)
	c, err := kafka.NewConsumer(&cfg)
	if err != nil {
		t.Fatalf("kafka.NewConsumer: %v", err)
	}
	x := &confluentTxnConsumer{t: t, c: c}
	t.Cleanup(func() {
		x.close()
		logs.check(t)
	})
	if err := c.Subscribe(topic, nil); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return x
}

// read returns the next n messages.
func (x *confluentTxnConsumer) read(ctx context.Context, n int) consumedBatch {
	x.t.Helper()
	var got consumedBatch
	for len(got) < n {
		if ctx.Err() != nil {
			x.t.Fatalf("read %d of %d records before the deadline", len(got), n)
		}
		m, err := x.c.ReadMessage(200 * time.Millisecond)
		if err != nil {
			if kerr, ok := err.(kafka.Error); ok && kerr.IsTimeout() {
				continue
			}
			x.t.Fatalf("ReadMessage after %d of %d records: %v", len(got), n, err)
		}
		got = append(got, m)
	}
	return got
}

// close leaves the group; later calls do nothing.
func (x *confluentTxnConsumer) close() {
	if x.closed {
		return
	}
	x.closed = true
	if err := x.c.Close(); err != nil {
		x.t.Errorf("closing consumer: %v", err)
	}
}

// consumedBatch is messages a consumer read, in the order read.
type consumedBatch []*kafka.Message

func (b consumedBatch) values() []string {
	out := make([]string, len(b))
	for i, m := range b {
		out[i] = string(m.Value)
	}
	return out
}

// next is, for each partition read in b or earlier, the offset after its last message:
// the offsets to commit once b is processed.
func (b consumedBatch) next(earlier consumedBatch) []kafka.TopicPartition {
	byPartition := map[int32]kafka.TopicPartition{}
	for _, m := range append(append(consumedBatch(nil), earlier...), b...) {
		tp := m.TopicPartition
		tp.Offset++
		byPartition[tp.Partition] = tp
	}
	out := make([]kafka.TopicPartition, 0, len(byPartition))
	for _, tp := range byPartition {
		out = append(out, tp)
	}
	return out
}

func offsetsByPartition(tps []kafka.TopicPartition) map[int32]int64 {
	out := map[int32]int64{}
	for _, tp := range tps {
		out[tp.Partition] = int64(tp.Offset)
	}
	return out
}

package compat_test

import (
	"context"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// TestConfluentKafkaGoTransactionsCommitAndAbort: a confluent-kafka-go transactional
// Producer sends three keyed transactions over a 3-partition topic, committing the first
// and the last and aborting the middle one (after all its records were acknowledged);
// read_committed sees exactly the committed values and read_uncommitted all of them.
func TestConfluentKafkaGoTransactionsCommitAndAbort(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startBroker(t)
	const topic = "confluent-go-txn"
	createTopic(ctx, t, b.Addr(), topic, 3)
	p := newConfluentTxnProducer(ctx, t, b.Addr(), "confluent-go-txn-producer")

	first, second, third := txnValues("first", 9), txnValues("second", 9), txnValues("third", 9)
	p.begin()
	p.send(topic, first)
	p.commit()
	p.begin()
	p.send(topic, second)
	p.abort()
	p.begin()
	p.send(topic, third)
	p.commit()

	assertTransactionOutcome(ctx, t, b.Addr(), topic, append(first, third...), second)
}

// confluentTxnProducer is a confluent-kafka-go transactional Producer whose every call
// fails the test on error.
type confluentTxnProducer struct {
	ctx context.Context
	t   *testing.T
	p   *kafka.Producer
}

// newConfluentTxnProducer creates the producer and runs InitTransactions; the producer
// is closed, and its librdkafka log checked for errors, when the test ends.
func newConfluentTxnProducer(ctx context.Context, t *testing.T, addr, transactionalID string) *confluentTxnProducer {
	t.Helper()
	cfg := kafka.ConfigMap{
		"bootstrap.servers": addr,
		"transactional.id":  transactionalID,
		"acks":              "all",
	}
	logs := watchRdkafkaLogs(cfg)
	p, err := kafka.NewProducer(&cfg)
	if err != nil {
		t.Fatalf("kafka.NewProducer with transactional.id %q: %v", transactionalID, err)
	}
	t.Cleanup(func() {
		p.Close()
		logs.check(t)
	})
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatalf("InitTransactions: %v", err)
	}
	return &confluentTxnProducer{ctx, t, p}
}

func (x *confluentTxnProducer) begin() {
	x.t.Helper()
	if err := x.p.BeginTransaction(); err != nil {
		x.t.Fatalf("BeginTransaction: %v", err)
	}
}

// send produces each value, keyed by itself, and waits for every delivery report, so
// the records are in the log whether the transaction then commits or aborts.
func (x *confluentTxnProducer) send(topic string, values []string) {
	x.t.Helper()
	reports := make(chan kafka.Event, len(values))
	for _, v := range values {
		msg := &kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
			Key:            []byte(v),
			Value:          []byte(v),
		}
		if err := x.p.Produce(msg, reports); err != nil {
			x.t.Fatalf("Produce in a transaction: %v", err)
		}
	}
	for delivered := 0; delivered < len(values); {
		select {
		case ev := <-reports:
			m, ok := ev.(*kafka.Message)
			if !ok {
				x.t.Fatalf("unexpected delivery event %v", ev)
			}
			if m.TopicPartition.Error != nil {
				x.t.Fatalf("delivery of %q in a transaction failed: %v", m.Value, m.TopicPartition.Error)
			}
			delivered++
		case ev := <-x.p.Events():
			if err, ok := ev.(kafka.Error); ok {
				x.t.Fatalf("producer error: %v", err)
			}
		case <-x.ctx.Done():
			x.t.Fatalf("%d of %d delivery reports before the deadline", delivered, len(values))
		}
	}
}

// sendOffsets adds the consumer's group offsets to the transaction.
func (x *confluentTxnProducer) sendOffsets(offsets []kafka.TopicPartition, c *kafka.Consumer) {
	x.t.Helper()
	meta, err := c.GetConsumerGroupMetadata()
	if err != nil {
		x.t.Fatalf("GetConsumerGroupMetadata: %v", err)
	}
	if err := x.p.SendOffsetsToTransaction(x.ctx, offsets, meta); err != nil {
		x.t.Fatalf("SendOffsetsToTransaction %v: %v", offsets, err)
	}
}

func (x *confluentTxnProducer) commit() {
	x.t.Helper()
	if err := x.p.CommitTransaction(x.ctx); err != nil {
		x.t.Fatalf("CommitTransaction: %v", err)
	}
}

func (x *confluentTxnProducer) abort() {
	x.t.Helper()
	if err := x.p.AbortTransaction(x.ctx); err != nil {
		x.t.Fatalf("AbortTransaction: %v", err)
	}
}

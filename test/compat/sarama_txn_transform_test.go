package compat_test

import (
	"testing"

	"github.com/IBM/sarama"
)

// TestSaramaTransactionalConsumeTransformProduce: sarama reads ten input records and
// processes them in transactions that write a transformed record per input and commit
// the input offsets with AddMessageToTxn (a group without members, as a standalone
// application commits). The first five are committed; the second five are aborted, which
// leaves the group's offset where it was, then processed again and committed.
func TestSaramaTransactionalConsumeTransformProduce(t *testing.T) {
	t.Parallel()
	for _, v := range saramaTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			const input, output, group = "sarama-ctp-in", "sarama-ctp-out", "sarama-ctp-g"
			ctx := testContext(t)
			b := startBroker(t)
			createTopic(ctx, t, b.Addr(), input, 1)
			createTopic(ctx, t, b.Addr(), output, 3)
			inputValues := txnValues("input", 10)
			produceInput(ctx, t, b.Addr(), input, 0, inputValues)

			msgs := saramaReadPartition(t, v.version, b.Addr(), input, len(inputValues))
			producer := newSaramaTxnProducer(t, v.version, b.Addr(), "sarama-ctp-producer")
			process := func(txn string, batch []*sarama.ConsumerMessage) {
				for _, m := range batch {
					saramaSend(t, producer, output, 3, []string{txn + ":" + string(m.Value)})
					if err := producer.AddMessageToTxn(m, group, nil); err != nil {
						t.Fatalf("sarama AddMessageToTxn offset %d (status %s): %v", m.Offset, producer.TxnStatus(), err)
					}
				}
			}

			saramaInTxn(t, producer, func() { process("first", msgs[:5]) }).commit()
			assertOffsetsEqual(t, "committed offsets after the first transaction", stableCommittedOffsets(ctx, t, b.Addr(), group, input), map[int32]int64{0: 5})
			saramaInTxn(t, producer, func() { process("aborted", msgs[5:]) }).abort()
			assertOffsetsEqual(t, "committed offsets after the aborted transaction", stableCommittedOffsets(ctx, t, b.Addr(), group, input), map[int32]int64{0: 5})
			saramaInTxn(t, producer, func() { process("retried", msgs[5:]) }).commit()
			assertOffsetsEqual(t, "committed offsets after the retried transaction", stableCommittedOffsets(ctx, t, b.Addr(), group, input), map[int32]int64{0: 10})

			committed := append(transformed("first", inputValues[:5]), transformed("retried", inputValues[5:])...)
			assertTransactionOutcome(ctx, t, b.Addr(), output, committed, transformed("aborted", inputValues[5:]))
		})
	}
}

// saramaReadPartition reads the first n messages of topic's partition 0 with a sarama
// read_committed partition consumer.
func saramaReadPartition(t *testing.T, version sarama.KafkaVersion, addr, topic string, n int) []*sarama.ConsumerMessage {
	t.Helper()
	cfg := newSaramaConfig(t, version)
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	consumer, err := sarama.NewConsumer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama.NewConsumer: %v", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("sarama ConsumePartition %s/0: %v", topic, err)
	}
	defer pc.Close()
	ctx := testContext(t)
	var got []*sarama.ConsumerMessage
	for len(got) < n {
		select {
		case m := <-pc.Messages():
			got = append(got, m)
		case err := <-pc.Errors():
			t.Fatalf("sarama partition consumer after %d of %d messages: %v", len(got), n, err)
		case <-ctx.Done():
			t.Fatalf("sarama read %d of %d messages before the deadline", len(got), n)
		}
	}
	return got
}

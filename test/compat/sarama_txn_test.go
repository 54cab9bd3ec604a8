package compat_test

import (
	"testing"

	"github.com/IBM/sarama"
)

// saramaTxnVersions are the Kafka versions a sarama transactional producer is tested
// with: the oldest the brief asks for and the newest sarama knows.
var saramaTxnVersions = []struct {
	name    string
	version sarama.KafkaVersion
}{
	{sarama.V2_5_0_0.String(), sarama.V2_5_0_0},
	{"newest " + sarama.MaxVersion.String(), sarama.MaxVersion},
}

// TestSaramaTransactionsCommitAndAbort: a sarama transactional SyncProducer sends three
// transactions over the three partitions of a topic, committing the first and the last
// and aborting the middle one; read_committed sees exactly the committed values and
// read_uncommitted all of them.
func TestSaramaTransactionsCommitAndAbort(t *testing.T) {
	t.Parallel()
	for _, v := range saramaTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			const topic, partitions = "sarama-txn", 3
			ctx := testContext(t)
			b := startBroker(t)
			createTopic(ctx, t, b.Addr(), topic, partitions)
			producer := newSaramaTxnProducer(t, v.version, b.Addr(), "sarama-txn-producer")

			first, second, third := txnValues("first", 9), txnValues("second", 9), txnValues("third", 9)
			saramaInTxn(t, producer, func() { saramaSend(t, producer, topic, partitions, first) }).commit()
			saramaInTxn(t, producer, func() { saramaSend(t, producer, topic, partitions, second) }).abort()
			saramaInTxn(t, producer, func() { saramaSend(t, producer, topic, partitions, third) }).commit()

			assertTransactionOutcome(ctx, t, b.Addr(), topic, append(first, third...), second)
		})
	}
}

// newSaramaTxnProducer is a transactional SyncProducer (newSaramaConfig's idempotent
// acks=all settings plus a transactional id); it is closed when the test ends.
func newSaramaTxnProducer(t *testing.T, version sarama.KafkaVersion, addr, transactionalID string) sarama.SyncProducer {
	t.Helper()
	cfg := newSaramaConfig(t, version)
	cfg.Producer.Transaction.ID = transactionalID
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sarama transactional config: %v", err)
	}
	producer, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama.NewSyncProducer with transactional id %q: %v", transactionalID, err)
	}
	t.Cleanup(func() {
		if err := producer.Close(); err != nil {
			t.Errorf("closing sarama transactional producer: %v", err)
		}
	})
	return producer
}

// saramaSend sends values[i] to partition i%partitions in one SendMessages call.
func saramaSend(t *testing.T, producer sarama.SyncProducer, topic string, partitions int32, values []string) {
	t.Helper()
	msgs := make([]*sarama.ProducerMessage, len(values))
	for i, v := range values {
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Partition: int32(i) % partitions, Value: sarama.StringEncoder(v)}
	}
	if err := producer.SendMessages(msgs); err != nil {
		t.Fatalf("sarama SendMessages in a transaction (status %s): %v", producer.TxnStatus(), err)
	}
}

// saramaTxn is a begun transaction whose body has run; commit or abort ends it.
type saramaTxn struct {
	t        *testing.T
	producer sarama.SyncProducer
}

// saramaInTxn begins a transaction and runs body in it.
func saramaInTxn(t *testing.T, producer sarama.SyncProducer, body func()) saramaTxn {
	t.Helper()
	if err := producer.BeginTxn(); err != nil {
		t.Fatalf("sarama BeginTxn (status %s): %v", producer.TxnStatus(), err)
	}
	body()
	return saramaTxn{t, producer}
}

func (x saramaTxn) commit() {
	x.t.Helper()
	if err := x.producer.CommitTxn(); err != nil {
		x.t.Fatalf("sarama CommitTxn (status %s): %v", x.producer.TxnStatus(), err)
	}
}

func (x saramaTxn) abort() {
	x.t.Helper()
	if err := x.producer.AbortTxn(); err != nil {
		x.t.Fatalf("sarama AbortTxn (status %s): %v", x.producer.TxnStatus(), err)
	}
}

package exactlyonce_test

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestAbandonedTransactionIsAbortedOnTimeout: a producer with a 2s transaction timeout
// begins a transaction, produces and disappears (kgo's Close does not end transactions).
// The last stable offset stays at the transaction's first offset — holding back a later
// non-transactional record from read_committed — until the coordinator aborts the
// transaction on timeout (it checks every 10s by default); then the LSO reaches the high
// watermark, the later record becomes visible and the abandoned records never do.
func TestAbandonedTransactionIsAbortedOnTimeout(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	const topic = "abandoned"
	testbroker.CreateTopic(t, b.Addr(), topic, 1)
	plain := testbroker.NewClient(t, b.Addr())
	producePlain(t, plain, topic, "before")

	abandoned := testbroker.OpenClient(t, b.Addr(),
		kgo.TransactionalID("crashed-producer"),
		kgo.TransactionTimeout(2*time.Second),
	)
	beginTxn(t, abandoned)
	produceInTxn(t, abandoned, topic, numbered("abandoned", 5)...)
	_, abandonedEpoch, err := abandoned.ProducerID(testContext(t, 10*time.Second))
	if err != nil {
		t.Fatalf("the abandoned producer's epoch: %v", err)
	}
	abandoned.Close()
	abandonedAt := time.Now()

	producePlain(t, plain, topic, "after")

	firstAbandoned := offsetOf(t, readTopic(t, plain, topic, readUncommitted)[0], "abandoned-0")
	held := listTopicOffsets(t, plain, topic)
	if held.Stable[0] != firstAbandoned {
		t.Fatalf("with the abandoned transaction open, the last stable offset is %d, want its first offset %d (high watermark %d)",
			held.Stable[0], firstAbandoned, held.High[0])
	}
	if got := readTopic(t, plain, topic, readCommitted)[0].Values(); strings.Join(got, ",") != "before" {
		t.Fatalf("read_committed behind the open transaction returned %q, want just \"before\"", got)
	}

	var stable topicOffsets
	waitUntil(t, 30*time.Second, 100*time.Millisecond, "the coordinator to abort the timed-out transaction", func() bool {
		stable = listTopicOffsets(t, plain, topic)
		return stable.Stable[0] == stable.High[0] && stable.High[0] > held.High[0]
	})
	abortedAfter := time.Since(abandonedAt)

	// Kafka aborts a timed-out transaction with a bumped epoch, fencing the vanished
	// producer should it come back.
	described := describeTransaction(t, plain, "crashed-producer")
	if described.State != "CompleteAbort" || described.ProducerEpoch <= abandonedEpoch {
		t.Errorf("DescribeTransactions after the timeout: state %s epoch %d, want CompleteAbort with an epoch above %d",
			described.State, described.ProducerEpoch, abandonedEpoch)
	}

	committed := readTopic(t, plain, topic, readCommitted)[0]
	if got := strings.Join(committed.Values(), ","); got != "before,after" {
		t.Errorf("read_committed after the timeout abort returned %q, want \"before,after\"", got)
	}
	if len(committed.Aborted) != 1 || committed.Aborted[0].FirstOffset != firstAbandoned {
		t.Errorf("read_committed Fetch listed aborted transactions %v, want one starting at %d", committed.Aborted, firstAbandoned)
	}
	uncommitted := countValues(readTopic(t, plain, topic, readUncommitted)[0].Values())
	for _, v := range numbered("abandoned", 5) {
		if uncommitted[v] != 1 {
			t.Errorf("read_uncommitted returned %q %d times, want 1", v, uncommitted[v])
		}
	}
	t.Logf("LSO held at %d (high watermark %d) until the abort %v after the producer vanished; then LSO = HW = %d",
		held.Stable[0], held.High[0], abortedAfter.Round(100*time.Millisecond), stable.High[0])
}

// producePlain produces values without a transaction, failing the test on error.
func producePlain(t *testing.T, cl *kgo.Client, topic string, values ...string) {
	t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(v)}
	}
	if err := cl.ProduceSync(testContext(t, 15*time.Second), recs...).FirstErr(); err != nil {
		t.Fatalf("non-transactional produce to %s: %v", topic, err)
	}
}

// offsetOf is the offset of the record with value v in r, failing the test if absent.
func offsetOf(t *testing.T, r partitionRead, v string) int64 {
	t.Helper()
	for _, rec := range r.Records {
		if string(rec.Value) == v {
			return rec.Offset
		}
	}
	t.Fatalf("no record %q was read", v)
	return -1
}

// describeTransaction asks DescribeTransactions about one transactional id.
func describeTransaction(t *testing.T, cl *kgo.Client, txnID string) kadm.DescribedTransaction {
	t.Helper()
	described, err := kadm.NewClient(cl).DescribeTransactions(testContext(t, 10*time.Second), txnID)
	if err != nil {
		t.Fatalf("describing transaction %s: %v", txnID, err)
	}
	d, ok := described[txnID]
	if !ok || d.Err != nil {
		t.Fatalf("describing transaction %s: %v", txnID, d.Err)
	}
	return d
}

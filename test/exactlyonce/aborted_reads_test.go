package exactlyonce_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestReadCommittedSkipsAbortedTransactions interleaves committed and aborted
// transactions of two producers on one partition, plus a non-transactional record, and
// reads the partition with both isolation levels: read_committed must show exactly the
// committed and non-transactional values, read_uncommitted must show the aborted ones too.
func TestReadCommittedSkipsAbortedTransactions(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	const topic = "interleaved"
	testbroker.CreateTopic(t, b.Addr(), topic, 1)

	committer := newTransactionalClient(t, b.Addr(), "committer")
	aborter := newTransactionalClient(t, b.Addr(), "aborter")
	plain := testbroker.NewClient(t, b.Addr())

	beginTxn(t, aborter)
	beginTxn(t, committer)
	produceInTxn(t, aborter, topic, numbered("aborted-a", 20)...)
	produceInTxn(t, committer, topic, numbered("committed-a", 20)...)
	produceInTxn(t, aborter, topic, numbered("aborted-b", 20)...)
	producePlain(t, plain, topic, "plain")
	produceInTxn(t, committer, topic, numbered("committed-b", 20)...)
	endTxn(t, aborter, kgo.TryAbort)
	beginTxn(t, aborter) // a second aborted transaction
	produceInTxn(t, aborter, topic, numbered("aborted-c", 20)...)
	endTxn(t, committer, kgo.TryCommit)
	endTxn(t, aborter, kgo.TryAbort)
	beginTxn(t, committer)
	produceInTxn(t, committer, topic, numbered("committed-c", 20)...)
	endTxn(t, committer, kgo.TryCommit)

	var committed, aborted []string
	for _, prefix := range []string{"committed-a", "committed-b", "committed-c"} {
		committed = append(committed, numbered(prefix, 20)...)
	}
	committed = append(committed, "plain")
	for _, prefix := range []string{"aborted-a", "aborted-b", "aborted-c"} {
		aborted = append(aborted, numbered(prefix, 20)...)
	}

	waitAllStable(t, plain, topic, 10*time.Second)

	readC := readTopic(t, plain, topic, readCommitted)[0]
	gotC := countValues(readC.Values())
	for _, v := range aborted {
		if gotC[v] > 0 {
			t.Errorf("read_committed returned %q from an aborted transaction", v)
		}
	}
	for _, v := range committed {
		if gotC[v] != 1 {
			t.Errorf("read_committed returned committed value %q %d times, want 1", v, gotC[v])
		}
	}
	if len(readC.Records) != len(committed) {
		t.Errorf("read_committed returned %d records, want %d", len(readC.Records), len(committed))
	}
	if len(readC.Aborted) != 2 {
		t.Errorf("read_committed Fetch listed aborted transactions %v, want the aborter's two", readC.Aborted)
	}

	gotU := countValues(readTopic(t, plain, topic, readUncommitted)[0].Values())
	for _, v := range append(aborted, committed...) {
		if gotU[v] != 1 {
			t.Errorf("read_uncommitted returned %q %d times, want 1", v, gotU[v])
		}
	}
	t.Logf("read_committed: %d records, read_uncommitted: %d, aborted transactions listed: %v",
		len(readC.Records), len(aborted)+len(committed), readC.Aborted)
}

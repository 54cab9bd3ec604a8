package exactlyonce_test

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// stableView is what read_committed shows of a partition: where the stable part ends,
// its values and the aborted transactions Fetch lists for it.
type stableView struct {
	LastStable, High int64
	Values           []string
	Aborted          []abortedTxn
}

func readStableView(t *testing.T, cl *kgo.Client, topic string) stableView {
	t.Helper()
	offsets := listTopicOffsets(t, cl, topic)
	r := readPartition(t, cl, topic, 0, readCommitted, 0, offsets.Stable[0], 30*time.Second)
	return stableView{LastStable: offsets.Stable[0], High: offsets.High[0], Values: r.Values(), Aborted: r.Aborted}
}

// TestRestartInTheMiddleOfTransactions restarts the broker while transactions are in
// every state: committed and aborted before the restart, one committed just before it
// (markers possibly in flight), and three left open — one its producer commits after the
// restart, one it aborts, and one whose producer is gone and which the coordinator must
// abort on timeout. The stable part of the partition (LSO,
// read_committed values, aborted transactions list) must read the same before and after
// the restart, and in the end exactly the committed transactions are visible.
func TestRestartInTheMiddleOfTransactions(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	const topic = "restarted"
	testbroker.CreateTopic(t, b.Addr(), topic, 1)

	committedBefore := newTransactionalClient(t, b.Addr(), "committed-before-restart")
	abortedBefore := newTransactionalClient(t, b.Addr(), "aborted-before-restart")
	commitAfter := newTransactionalClient(t, b.Addr(), "committed-after-restart")
	abortAfter := newTransactionalClient(t, b.Addr(), "aborted-after-restart")
	lastMinute := newTransactionalClient(t, b.Addr(), "committed-just-before-restart")
	vanished := testbroker.OpenClient(t, b.Addr(), kgo.TransactionalID("vanished-before-restart"),
		kgo.TransactionTimeout(3*time.Second))

	for _, cl := range []*kgo.Client{committedBefore, abortedBefore, commitAfter, abortAfter, lastMinute, vanished} {
		beginTxn(t, cl)
	}
	produceInTxn(t, committedBefore, topic, numbered("committed-before", 10)...)
	produceInTxn(t, abortedBefore, topic, numbered("aborted-before", 10)...)
	produceInTxn(t, committedBefore, topic, numbered("committed-before-more", 10)...)
	endTxn(t, committedBefore, kgo.TryCommit)
	endTxn(t, abortedBefore, kgo.TryAbort)
	produceInTxn(t, commitAfter, topic, numbered("committed-after", 10)...)
	produceInTxn(t, abortAfter, topic, numbered("aborted-after", 10)...)
	produceInTxn(t, vanished, topic, numbered("vanished", 10)...)
	produceInTxn(t, lastMinute, topic, numbered("committed-just-before-restart", 10)...)
	produceInTxn(t, commitAfter, topic, numbered("committed-after-more", 10)...)
	vanished.Close()

	// The stable part ends where the first open transaction starts, once the markers of
	// the two ended before it are written.
	reader := testbroker.NewClient(t, b.Addr())
	firstOpen := offsetOf(t, readTopic(t, reader, topic, readUncommitted)[0], "committed-after-0")
	waitUntil(t, 10*time.Second, 20*time.Millisecond, "the LSO to reach the first open transaction", func() bool {
		return listTopicOffsets(t, reader, topic).Stable[0] == firstOpen
	})
	before := readStableView(t, reader, topic)

	// Committed just before the restart: the markers may still be in flight when the
	// broker stops, and the restarted coordinator must complete the commit.
	endTxn(t, lastMinute, kgo.TryCommit)
	b.Restart()

	after := readStableView(t, reader, topic)
	if after.LastStable != before.LastStable {
		t.Errorf("restart moved the LSO: %d → %d", before.LastStable, after.LastStable)
	}
	if !slices.Equal(after.Values, before.Values) {
		t.Errorf("restart changed the read_committed values of the stable part:\nbefore %q\nafter  %q", before.Values, after.Values)
	}
	if !slices.Equal(after.Aborted, before.Aborted) {
		t.Errorf("restart changed the aborted transactions listed for the stable part: before %v, after %v", before.Aborted, after.Aborted)
	}

	endTxn(t, commitAfter, kgo.TryCommit)
	endTxn(t, abortAfter, kgo.TryAbort)
	waitUntil(t, 30*time.Second, 100*time.Millisecond, "the vanished producer's transaction to be aborted on timeout", func() bool {
		o := listTopicOffsets(t, reader, topic)
		return o.Stable[0] == o.High[0]
	})

	final := readStableView(t, reader, topic)
	var want []string
	for _, prefix := range []string{"committed-before", "committed-before-more", "committed-after", "committed-just-before-restart", "committed-after-more"} {
		want = append(want, numbered(prefix, 10)...)
	}
	if !slices.Equal(final.Values, want) {
		t.Errorf("read_committed in the end returned %q,\nwant %q", final.Values, want)
	}
	uncommitted := readTopic(t, reader, topic, readUncommitted)[0]
	wantAborted := []abortedTxn{}
	for _, first := range []string{"aborted-before-0", "aborted-after-0", "vanished-0"} {
		wantAborted = append(wantAborted, abortedTxn{FirstOffset: offsetOf(t, uncommitted, first)})
	}
	if len(final.Aborted) != len(wantAborted) {
		t.Fatalf("read_committed Fetch listed aborted transactions %v, want three starting at %v", final.Aborted, wantAborted)
	}
	for i, a := range final.Aborted {
		if a.FirstOffset != wantAborted[i].FirstOffset {
			t.Errorf("aborted transaction %d starts at %d, want %d", i, a.FirstOffset, wantAborted[i].FirstOffset)
		}
	}
	var stablePrefix []abortedTxn
	for _, a := range final.Aborted {
		if a.FirstOffset < before.LastStable {
			stablePrefix = append(stablePrefix, a)
		}
	}
	if !slices.Equal(stablePrefix, before.Aborted) {
		t.Errorf("aborted transactions below the old LSO %d changed: before the restart %v, in the end %v",
			before.LastStable, before.Aborted, stablePrefix)
	}
	t.Logf("before/after restart: LSO %d/%d, HW %d/%d, %d committed values, aborted %v; final LSO = HW = %d, aborted %v",
		before.LastStable, after.LastStable, before.High, after.High, len(before.Values), before.Aborted, final.High, final.Aborted)
}

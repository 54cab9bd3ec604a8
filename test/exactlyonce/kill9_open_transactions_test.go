package exactlyonce_test

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestOpenTransactionsSurviveKill9 kills the waybill process with two transactions open
// on a partition and restarts it: the recovered partition must hold the last stable offset
// where it was (at the first open transaction, so the non-transactional record written
// after it stays invisible read_committed), with the same high watermark, stable values
// and aborted transactions list; then the producers abort one transaction and commit the
// other, and read_committed shows exactly the committed records.
func TestOpenTransactionsSurviveKill9(t *testing.T) {
	bp := testbroker.StartProcess(t, waybillBinary)
	const topic = "open-at-kill"
	testbroker.CreateTopic(t, bp.Addr(), topic, 1)
	plain := testbroker.NewClient(t, bp.Addr())
	producePlain(t, plain, topic, "before")

	committer := newTransactionalClient(t, bp.Addr(), "committed-before-kill")
	beginTxn(t, committer)
	produceInTxn(t, committer, topic, numbered("committed-before-kill", 10)...)
	endTxn(t, committer, kgo.TryCommit)
	aborter := newTransactionalClient(t, bp.Addr(), "open-then-aborted")
	finisher := newTransactionalClient(t, bp.Addr(), "open-then-committed")
	beginTxn(t, aborter)
	beginTxn(t, finisher)
	produceInTxn(t, aborter, topic, numbered("open-then-aborted", 10)...)
	produceInTxn(t, finisher, topic, numbered("open-then-committed", 10)...)
	producePlain(t, plain, topic, "after")

	firstOpen := offsetOf(t, readTopic(t, plain, topic, readUncommitted)[0], "open-then-aborted-0")
	waitUntil(t, 10*time.Second, 20*time.Millisecond, "the LSO to reach the first open transaction", func() bool {
		return listTopicOffsets(t, plain, topic).Stable[0] == firstOpen
	})
	before := readStableView(t, plain, topic)

	bp.Kill()
	bp.Restart()

	after := readStableView(t, plain, topic)
	if after.LastStable != before.LastStable || after.High != before.High {
		t.Errorf("kill -9 moved the offsets: LSO %d → %d, high watermark %d → %d",
			before.LastStable, after.LastStable, before.High, after.High)
	}
	if !slices.Equal(after.Values, before.Values) {
		t.Errorf("kill -9 changed the read_committed values of the stable part:\nbefore %q\nafter  %q", before.Values, after.Values)
	}
	if !slices.Equal(after.Aborted, before.Aborted) {
		t.Errorf("kill -9 changed the aborted transactions listed: before %v, after %v", before.Aborted, after.Aborted)
	}

	endTxn(t, aborter, kgo.TryAbort)
	endTxn(t, finisher, kgo.TryCommit)
	final := waitAllStable(t, plain, topic, 10*time.Second)
	want := append(append(append([]string{"before"}, numbered("committed-before-kill", 10)...),
		numbered("open-then-committed", 10)...), "after")
	got := readTopic(t, plain, topic, readCommitted)[0]
	if !slices.Equal(got.Values(), want) {
		t.Errorf("read_committed in the end returned %q,\nwant %q", got.Values(), want)
	}
	if len(got.Aborted) != 1 || got.Aborted[0].FirstOffset != firstOpen {
		t.Errorf("read_committed Fetch listed aborted transactions %v, want one starting at %d", got.Aborted, firstOpen)
	}
	t.Logf("before/after kill -9: LSO %d/%d, HW %d/%d; final LSO = HW = %d, aborted %v",
		before.LastStable, after.LastStable, before.High, after.High, final.High[0], got.Aborted)
}

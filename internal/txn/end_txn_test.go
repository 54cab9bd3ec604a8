package txn

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestCommitWritesMarkersToExactlyTheAddedPartitions(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("b", 2), tp("a", 0)), nil)
	requireCode(t, "add more", h.add(p, tp("a", 1)), nil)
	requireCode(t, "add offsets", h.addOffsets(p, "g"), nil)
	requireCode(t, "commit", h.end(p, true), nil)
	h.settle()

	want := []TopicPartition{{"__consumer_offsets", testGroupPartition}, {"a", 0}, {"a", 1}, {"b", 2}}
	calls := h.markers.recorded()
	if len(calls) != 1 {
		t.Fatalf("got %d marker calls, want 1: %+v", len(calls), calls)
	}
	c := calls[0]
	if !c.commit || c.producerID != p.producerID || c.epoch != p.epoch || c.coordinatorEpoch != testCoordinatorEpoch ||
		!slices.Equal(c.partitions, want) {
		t.Fatalf("marker call %+v, want commit of %v by %d/%d at coordinator epoch %d",
			c, want, p.producerID, p.epoch, testCoordinatorEpoch)
	}
	hist := h.store.history(t, h.c.PartitionFor("tx"), "tx")
	if got := states(hist); !slices.Equal(got, []string{"Empty", "Ongoing", "Ongoing", "Ongoing", "PrepareCommit", "CompleteCommit"}) {
		t.Fatalf("persisted states %v", got)
	}
	if prep := hist[4]; len(prep.Topics) != 3 {
		t.Fatalf("PrepareCommit persisted topics %+v, want the 3 topics of the transaction", prep.Topics)
	}
	if done := hist[5]; len(done.Topics) != 0 || done.Topics == nil {
		t.Fatalf("CompleteCommit persisted topics %+v, want an empty list", done.Topics)
	}
	if got := h.state("tx"); got != "CompleteCommit" {
		t.Fatalf("state %s, want CompleteCommit", got)
	}
}

func TestAbortWritesAbortMarkers(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	requireCode(t, "abort", h.end(p, false), nil)
	h.settle()
	calls := h.markers.recorded()
	if len(calls) != 1 || calls[0].commit || calls[0].epoch != p.epoch || !slices.Equal(calls[0].partitions, []TopicPartition{{"a", 0}}) {
		t.Fatalf("marker calls %+v, want one abort of a-0 at epoch %d", calls, p.epoch)
	}
	if got := h.state("tx"); got != "CompleteAbort" {
		t.Fatalf("state %s, want CompleteAbort", got)
	}
	// The next transaction starts from CompleteAbort.
	requireCode(t, "add after abort", h.add(p, tp("a", 0)), nil)
}

func TestMarkersRetriedUntilWrittenOrPartitionGone(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0), tp("a", 1), tp("gone", 0)), nil)
	h.markers.failTimes(tp("a", 1), kerr.NotLeaderForPartition, kerr.RequestTimedOut)
	h.markers.failTimes(tp("gone", 0), kerr.UnknownTopicOrPartition)
	requireCode(t, "commit", h.end(p, true), nil)
	h.settle()

	var got [][]TopicPartition
	for _, c := range h.markers.recorded() {
		got = append(got, c.partitions)
	}
	want := [][]TopicPartition{
		{{"a", 0}, {"a", 1}, {"gone", 0}},
		{{"a", 1}},
		{{"a", 1}},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("marker rounds %v, want %v", got, want)
	}
	if s := h.state("tx"); s != "CompleteCommit" {
		t.Fatalf("state %s, want CompleteCommit", s)
	}
}

func TestDescribeShowsPartitionsStillWithoutMarkers(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0), tp("a", 1)), nil)
	h.markers.failTimes(tp("a", 1), kerr.NotLeaderForPartition)
	h.markers.hold()
	requireCode(t, "commit", h.end(p, true), nil)
	d := h.describe("tx")
	if d.State != "PrepareCommit" || len(d.Topics) != 1 || !slices.Equal(d.Topics[0].Partitions, []int32{0, 1}) {
		t.Fatalf("describe while preparing: %+v", d)
	}
	h.markers.release()
	h.settle()
	if d := h.describe("tx"); d.State != "CompleteCommit" || len(d.Topics) != 0 {
		t.Fatalf("describe after completion: %+v", d)
	}
}

func TestCompleteStateWriteRetried(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	h.markers.hold()
	requireCode(t, "commit", h.end(p, true), nil)
	h.store.failNextAppend(kerr.NotEnoughReplicas) // the CompleteCommit write
	h.markers.release()
	h.settle()
	if got := states(h.store.history(t, h.c.PartitionFor("tx"), "tx")); !slices.Equal(got, []string{"Empty", "Ongoing", "PrepareCommit", "CompleteCommit"}) {
		t.Fatalf("persisted states %v", got)
	}
}

func TestEndTxnRetriesAnsweredConsistently(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "end with no transaction", h.end(p, true), kerr.InvalidTxnState)
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)

	h.markers.hold()
	requireCode(t, "commit", h.end(p, true), nil)
	requireCode(t, "commit retried while preparing", h.end(p, true), nil)
	requireCode(t, "abort while committing", h.end(p, false), kerr.InvalidTxnState)
	h.markers.release()
	h.settle()
	requireCode(t, "commit retried once complete", h.end(p, true), nil)
	requireCode(t, "abort once committed", h.end(p, false), kerr.InvalidTxnState)
	if n := len(h.markers.recorded()); n != 1 {
		t.Fatalf("retries wrote markers again: %d calls", n)
	}

	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	requireCode(t, "abort", h.end(p, false), nil)
	h.settle()
	requireCode(t, "abort retried", h.end(p, false), nil)
	requireCode(t, "commit once aborted", h.end(p, true), kerr.InvalidTxnState)
}

func TestEndTxnChecksProducer(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	requireCode(t, "unknown id", h.end(producer{"nope", p.producerID, p.epoch}, true), kerr.InvalidProducerIDMapping)
	requireCode(t, "other producer id", h.end(producer{"tx", p.producerID + 1, p.epoch}, true), kerr.InvalidProducerIDMapping)
	requireCode(t, "newer epoch", h.end(producer{"tx", p.producerID, p.epoch + 1}, true), kerr.ProducerFenced)
	requireCode(t, "empty id", h.end(producer{"", p.producerID, p.epoch}, true), kerr.InvalidRequest)
}

func TestConcurrentTransactionsWhileMarkersPending(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	h.markers.hold()
	requireCode(t, "commit", h.end(p, true), nil)

	requireCode(t, "next transaction adds", h.add(p, tp("a", 0)), kerr.ConcurrentTransactions)
	requireCode(t, "next transaction adds offsets", h.addOffsets(p, "g"), kerr.ConcurrentTransactions)
	requireCode(t, "InitProducerId", h.c.InitProducerID(t.Context(), h.initRequest("tx", 4)).ErrorCode, kerr.ConcurrentTransactions)

	h.markers.release()
	h.settle()
	requireCode(t, "next transaction adds once complete", h.add(p, tp("a", 0)), nil)
}

func TestEndTxnV5Unsupported(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	req := endRequest(p, true)
	req.Version = 5
	requireCode(t, "EndTxn v5", h.c.EndTxn(t.Context(), req).ErrorCode, kerr.UnsupportedVersion)
	req.Version = 1
	req.ProducerEpoch = p.epoch + 1
	requireCode(t, "EndTxn v1 fenced", h.c.EndTxn(t.Context(), req).ErrorCode, kerr.InvalidProducerEpoch)
}

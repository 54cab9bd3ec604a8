package txn

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestLoadAfterCrashInPrepareCommitCompletesCommit(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0), tp("b", 0)), nil)
	h.markers.failTimes(tp("b", 0), kerr.NotLeaderForPartition)
	h.markers.hold()
	requireCode(t, "commit", h.end(p, true), nil)
	// The broker dies with the markers in flight; the next leader of the
	// partition, with a new coordinator epoch, takes over.
	h.c.Close()
	before := len(h.markers.recorded())
	h.markers.release()
	h.cfg.CoordinatorEpoch = func(int32) int32 { return testCoordinatorEpoch + 1 }
	h.c = h.start()
	h.settle()

	calls := h.markers.recorded()[before:]
	if len(calls) != 2 {
		t.Fatalf("after reload got marker calls %+v, want two rounds (b-0 fails once)", calls)
	}
	c := calls[0]
	if !c.commit || c.producerID != p.producerID || c.epoch != p.epoch || c.coordinatorEpoch != testCoordinatorEpoch+1 ||
		!slices.Equal(c.partitions, []TopicPartition{{"a", 0}, {"b", 0}}) {
		t.Fatalf("first marker call after reload %+v", c)
	}
	if got := states(h.store.history(t, h.c.PartitionFor("tx"), "tx")); !slices.Equal(got, []string{"Empty", "Ongoing", "PrepareCommit", "CompleteCommit"}) {
		t.Fatalf("persisted states %v", got)
	}
	requireCode(t, "commit retried against the new coordinator", h.end(p, true), nil)
	requireCode(t, "next transaction", h.add(p, tp("a", 0)), nil)
}

func TestLoadRestoresEveryState(t *testing.T) {
	h := newHarness(t, nil)
	empty := h.initProducer("empty")
	ongoing := h.initProducer("ongoing")
	requireCode(t, "add", h.add(ongoing, tp("a", 0)), nil)
	aborted := h.initProducer("aborted")
	requireCode(t, "add", h.add(aborted, tp("a", 0)), nil)
	requireCode(t, "abort", h.end(aborted, false), nil)
	h.settle()

	h.c.Close()
	h.c = h.start()
	for id, want := range map[string]string{"empty": "Empty", "ongoing": "Ongoing", "aborted": "CompleteAbort"} {
		if got := h.state(id); got != want {
			t.Errorf("%s reloaded as %s, want %s", id, got, want)
		}
	}
	requireCode(t, "ongoing producer continues", h.add(ongoing, tp("b", 0)), nil)
	requireCode(t, "ongoing producer commits", h.end(ongoing, true), nil)
	h.settle()
	if p := h.initProducer("empty"); p.producerID != empty.producerID || p.epoch != empty.epoch+1 {
		t.Fatalf("reloaded id bumped to %+v", p)
	}
	// A reloaded Ongoing transaction still times out.
	requireCode(t, "add", h.add(ongoing, tp("a", 0)), nil)
	h.c.Close()
	h.c = h.start()
	h.clock.Advance(time.Hour)
	h.c.abortTimedOut()
	h.settle()
	if d := h.describe("ongoing"); d.State != "CompleteAbort" || d.ProducerEpoch != ongoing.epoch+1 {
		t.Fatalf("reloaded Ongoing after its timeout: %+v", d)
	}
}

func TestRequestsForUnownedOrLoadingPartitions(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	part := h.c.PartitionFor("tx")
	h.c.Unload(part)
	requireCode(t, "InitProducerId unloaded", h.c.InitProducerID(t.Context(), h.initRequest("tx", 4)).ErrorCode, kerr.NotCoordinator)
	requireCode(t, "add unloaded", h.add(p, tp("a", 0)), kerr.NotCoordinator)
	requireCode(t, "end unloaded", h.end(p, true), kerr.NotCoordinator)
	requireCode(t, "describe unloaded", h.describe("tx").ErrorCode, kerr.NotCoordinator)

	gate, replaying := make(chan struct{}), make(chan struct{})
	h.store.mu.Lock()
	h.store.replayGate, h.store.replaying = gate, replaying
	h.store.mu.Unlock()
	loaded := make(chan error)
	go func() { loaded <- h.c.Load(part) }()
	<-replaying
	requireCode(t, "InitProducerId while loading", h.c.InitProducerID(t.Context(), h.initRequest("tx", 4)).ErrorCode, kerr.CoordinatorLoadInProgress)
	requireCode(t, "add while loading", h.add(p, tp("a", 0)), kerr.CoordinatorLoadInProgress)
	requireCode(t, "list while loading", h.c.ListTransactions(t.Context(), kmsg.NewPtrListTransactionsRequest()).ErrorCode, kerr.CoordinatorLoadInProgress)
	close(gate)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	requireCode(t, "add once loaded", h.add(p, tp("a", 0)), nil)

	h.c.Close()
	requireCode(t, "after close", h.add(p, tp("a", 0)), kerr.CoordinatorNotAvailable)
	if err := h.c.Load(part); err != ErrClosed {
		t.Fatalf("Load after Close: %v", err)
	}
}

func TestUnloadStopsMarkerJobs(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	h.markers.failTimes(tp("a", 0), kerr.NotLeaderForPartition, kerr.NotLeaderForPartition, kerr.NotLeaderForPartition)
	h.markers.hold()
	requireCode(t, "commit", h.end(p, true), nil)
	h.c.Unload(h.c.PartitionFor("tx"))
	h.settle() // returns because the job stops; the gate is never opened
	if got := states(h.store.history(t, h.c.PartitionFor("tx"), "tx")); slices.Contains(got, "CompleteCommit") {
		t.Fatalf("an unloaded coordinator completed the transaction: %v", got)
	}
}

func TestLoadRejectsCorruptRecord(t *testing.T) {
	h := newHarness(t, nil)
	h.initProducer("tx")
	part := h.c.PartitionFor("tx")
	h.c.Unload(part)
	if err := h.store.Append(t.Context(), part, []Record{{Key: metadataKey("tx"), Value: []byte{0, 0, 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := h.c.Load(part); err == nil {
		t.Fatal("Load of a corrupt record succeeded")
	}
	requireCode(t, "after failed load", h.describe("tx").ErrorCode, kerr.NotCoordinator)
}

package txn

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestTimeoutAbortBumpsEpochAndFencesProducer(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0), tp("b", 1)), nil)

	h.clock.Advance(testTimeoutMillis * time.Millisecond)
	h.c.abortTimedOut()
	if s := h.state("tx"); s != "Ongoing" {
		t.Fatalf("at exactly the timeout: state %s, want Ongoing", s)
	}

	h.clock.Advance(time.Millisecond)
	h.c.abortTimedOut()
	h.settle()
	calls := h.markers.recorded()
	if len(calls) != 1 || calls[0].commit || calls[0].epoch != p.epoch+1 ||
		!slices.Equal(calls[0].partitions, []TopicPartition{{"a", 0}, {"b", 1}}) {
		t.Fatalf("marker calls %+v, want one abort of a-0, b-1 with epoch %d", calls, p.epoch+1)
	}
	d := h.describe("tx")
	if d.State != "CompleteAbort" || d.ProducerEpoch != p.epoch+1 {
		t.Fatalf("describe %+v, want CompleteAbort at epoch %d", d, p.epoch+1)
	}
	hist := h.store.history(t, h.c.PartitionFor("tx"), "tx")
	if got := states(hist); !slices.Equal(got, []string{"Empty", "Ongoing", "PrepareAbort", "CompleteAbort"}) {
		t.Fatalf("persisted states %v", got)
	}
	if hist[2].ProducerEpoch != p.epoch+1 {
		t.Fatalf("PrepareAbort persisted epoch %d, want the bumped %d", hist[2].ProducerEpoch, p.epoch+1)
	}

	requireCode(t, "fenced producer commits", h.end(p, true), kerr.ProducerFenced)
	requireCode(t, "fenced producer adds", h.add(p, tp("a", 0)), kerr.ProducerFenced)
	if err := h.c.VerifyPartition("tx", p.producerID, p.epoch, tp("a", 0)); err != kerr.ProducerFenced {
		t.Fatalf("fenced producer verifies: %v, want PRODUCER_FENCED", err)
	}
	if q := h.initProducer("tx"); q.epoch != p.epoch+2 {
		t.Fatalf("new producer got epoch %d, want %d", q.epoch, p.epoch+2)
	}
}

func TestTimeoutAbortRetriedAfterAppendFailure(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	h.clock.Advance(time.Hour)
	h.store.failNextAppend(kerr.NotEnoughReplicas)
	h.c.abortTimedOut()
	if s := h.state("tx"); s != "Ongoing" {
		t.Fatalf("after failed abort: state %s, want Ongoing", s)
	}
	h.c.abortTimedOut()
	h.settle()
	if d := h.describe("tx"); d.State != "CompleteAbort" || d.ProducerEpoch != p.epoch+1 {
		t.Fatalf("describe %+v, want CompleteAbort bumped once to %d", d, p.epoch+1)
	}
}

func TestAbortProducer(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	if err := h.c.AbortProducer(t.Context(), "tx"); err != kerr.InvalidTxnState {
		t.Fatalf("no open transaction: %v", err)
	}
	if err := h.c.AbortProducer(t.Context(), "nope"); err != kerr.TransactionalIDNotFound {
		t.Fatalf("unknown id: %v", err)
	}
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	if err := h.c.AbortProducer(t.Context(), "tx"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if c := h.markers.recorded(); len(c) != 1 || c[0].commit || c[0].epoch != p.epoch+1 {
		t.Fatalf("marker calls %+v", c)
	}
	requireCode(t, "aborted producer commits", h.end(p, true), kerr.ProducerFenced)
}

func TestExpiryRemovesOnlyIdleIDsWithoutOpenTransaction(t *testing.T) {
	h := newHarness(t, func(cfg *Config) { cfg.TransactionalIDExpiration = time.Hour })
	idle := h.initProducer("idle")
	open := h.initProducer("open")
	requireCode(t, "add", h.add(open, tp("a", 0)), nil)
	prep := h.initProducer("preparing")
	requireCode(t, "add", h.add(prep, tp("a", 0)), nil)
	h.markers.hold()
	requireCode(t, "commit", h.end(prep, true), nil)
	committed := h.initProducer("committed")
	requireCode(t, "add", h.add(committed, tp("b", 0)), nil)

	h.clock.Advance(59 * time.Minute)
	requireCode(t, "commit", h.end(committed, true), nil) // its markers wait too
	h.clock.Advance(time.Minute)
	h.c.removeExpired()
	requireCode(t, "idle expired", h.describe("idle").ErrorCode, kerr.TransactionalIDNotFound)
	for _, id := range []string{"open", "preparing", "committed"} {
		requireCode(t, id+" kept", h.describe(id).ErrorCode, nil)
	}

	h.markers.release()
	h.settle()
	h.clock.Advance(10 * time.Hour)
	h.c.removeExpired()
	requireCode(t, "open still kept", h.describe("open").ErrorCode, nil)
	requireCode(t, "preparing expired once complete and idle", h.describe("preparing").ErrorCode, kerr.TransactionalIDNotFound)
	requireCode(t, "committed expired once idle", h.describe("committed").ErrorCode, kerr.TransactionalIDNotFound)

	if got := states(h.store.history(t, h.c.PartitionFor("idle"), "idle")); !slices.Equal(got, []string{"Empty", "tombstone"}) {
		t.Fatalf("idle persisted %v", got)
	}
	// An expired id starts afresh with a new producer id.
	if p := h.initProducer("idle"); p.producerID == idle.producerID || p.epoch != 0 {
		t.Fatalf("re-initialised expired id: %+v", p)
	}
	// A reload agrees.
	h.c.Close()
	h.c = h.start()
	requireCode(t, "committed after reload", h.describe("committed").ErrorCode, kerr.TransactionalIDNotFound)
	requireCode(t, "open after reload", h.describe("open").ErrorCode, nil)
}

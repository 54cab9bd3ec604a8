package txn

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestInitProducerIDNewIDGetsFreshProducerIDAndEpochZero(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	if p.producerID != 1000 || p.epoch != 0 {
		t.Fatalf("got producer %d epoch %d, want 1000 epoch 0", p.producerID, p.epoch)
	}
	hist := h.store.history(t, h.c.PartitionFor("tx"), "tx")
	if len(hist) != 1 || hist[0].State != stateEmpty || hist[0].ProducerID != 1000 || hist[0].ProducerEpoch != 0 ||
		hist[0].TimeoutMillis != testTimeoutMillis || hist[0].Topics != nil || hist[0].StartTimestamp != -1 {
		t.Fatalf("persisted %+v, want one Empty record for producer 1000 epoch 0 with no partitions", hist)
	}
}

func TestInitProducerIDWithoutTransactionalIDIsIdempotentOnly(t *testing.T) {
	h := newHarness(t, nil)
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 4
	resp := h.c.InitProducerID(context.Background(), req)
	requireCode(t, "InitProducerId", resp.ErrorCode, nil)
	if resp.ProducerID != 1000 || resp.ProducerEpoch != 0 {
		t.Fatalf("got producer %d epoch %d, want 1000 epoch 0", resp.ProducerID, resp.ProducerEpoch)
	}
}

func TestInitProducerIDValidatesRequest(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name    string
		edit    func(*kmsg.InitProducerIDRequest)
		want    *kerr.Error
		version int16
	}{
		{"empty transactional id", func(r *kmsg.InitProducerIDRequest) { r.TransactionalID = new(string) }, kerr.InvalidRequest, 4},
		{"zero timeout", func(r *kmsg.InitProducerIDRequest) { r.TransactionTimeoutMillis = 0 }, kerr.InvalidTransactionTimeout, 4},
		{"timeout above max", func(r *kmsg.InitProducerIDRequest) { r.TransactionTimeoutMillis = 15*60_000 + 1 }, kerr.InvalidTransactionTimeout, 4},
		{"producer id without epoch", func(r *kmsg.InitProducerIDRequest) { r.ProducerID = 5 }, kerr.InvalidRequest, 4},
	} {
		req := h.initRequest("tx", tc.version)
		tc.edit(req)
		requireCode(t, tc.name, h.c.InitProducerID(context.Background(), req).ErrorCode, tc.want)
	}
	req := h.initRequest("tx", 4)
	req.TransactionTimeoutMillis = 15 * 60_000
	requireCode(t, "timeout at max", h.c.InitProducerID(context.Background(), req).ErrorCode, nil)
}

func TestInitProducerIDAgainBumpsEpochAndFencesOldProducer(t *testing.T) {
	h := newHarness(t, nil)
	old := h.initProducer("tx")
	requireCode(t, "add", h.add(old, tp("a", 0)), nil)
	requireCode(t, "commit", h.end(old, true), nil)
	h.settle()

	cur := h.initProducer("tx")
	if cur.producerID != old.producerID || cur.epoch != old.epoch+1 {
		t.Fatalf("got %+v, want producer %d epoch %d", cur, old.producerID, old.epoch+1)
	}
	requireCode(t, "old producer adds", h.add(old, tp("a", 0)), kerr.ProducerFenced)
	requireCode(t, "old producer adds, v1", h.addPartitions(old, 1, tp("a", 0)).Topics[0].Partitions[0].ErrorCode, kerr.InvalidProducerEpoch)
	requireCode(t, "old producer ends", h.end(old, true), kerr.ProducerFenced)
	requireCode(t, "new producer adds", h.add(cur, tp("a", 0)), nil)
}

func TestInitProducerIDKIP360BumpAndRetry(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	kip360 := func(producerID int64, epoch int16, version int16) *kmsg.InitProducerIDResponse {
		req := h.initRequest("tx", version)
		req.ProducerID, req.ProducerEpoch = producerID, epoch
		return h.c.InitProducerID(context.Background(), req)
	}

	resp := kip360(p.producerID, p.epoch, 4)
	requireCode(t, "bump with current epoch", resp.ErrorCode, nil)
	if resp.ProducerID != p.producerID || resp.ProducerEpoch != p.epoch+1 {
		t.Fatalf("got %d/%d, want %d/%d", resp.ProducerID, resp.ProducerEpoch, p.producerID, p.epoch+1)
	}
	// The answer was lost; the producer retries with the epoch it had.
	resp = kip360(p.producerID, p.epoch, 4)
	requireCode(t, "retried bump", resp.ErrorCode, nil)
	if resp.ProducerEpoch != p.epoch+1 {
		t.Fatalf("retried bump gave epoch %d, want %d again", resp.ProducerEpoch, p.epoch+1)
	}

	requireCode(t, "unknown epoch", kip360(p.producerID, p.epoch+7, 4).ErrorCode, kerr.ProducerFenced)
	requireCode(t, "unknown epoch, v3", kip360(p.producerID, p.epoch+7, 3).ErrorCode, kerr.InvalidProducerEpoch)
	requireCode(t, "other producer id", kip360(p.producerID+50, 0, 4).ErrorCode, kerr.ProducerFenced)

	// A fresh producer (no KIP-360 fields) fences the old one; its retry
	// with the old epoch is then fenced too.
	fresh := h.initProducer("tx")
	requireCode(t, "retry after a newer producer", kip360(p.producerID, p.epoch+1, 4).ErrorCode, kerr.ProducerFenced)
	if fresh.epoch != p.epoch+2 {
		t.Fatalf("fresh producer got epoch %d, want %d", fresh.epoch, p.epoch+2)
	}
}

func TestInitProducerIDRotatesProducerIDWhenEpochExhausted(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	lastEpoch := int16(math.MaxInt16 - 1)
	setEpoch(h, "tx", lastEpoch)

	req := h.initRequest("tx", 4)
	req.ProducerID, req.ProducerEpoch = p.producerID, lastEpoch
	resp := h.c.InitProducerID(context.Background(), req)
	requireCode(t, "bump at exhausted epoch", resp.ErrorCode, nil)
	if resp.ProducerID == p.producerID || resp.ProducerEpoch != 0 {
		t.Fatalf("got %d/%d, want a new producer id with epoch 0", resp.ProducerID, resp.ProducerEpoch)
	}
	rotated := resp.ProducerID

	// The answer was lost: the retry presents the old producer id and epoch.
	resp = h.c.InitProducerID(context.Background(), req)
	requireCode(t, "retried rotation", resp.ErrorCode, nil)
	if resp.ProducerID != rotated || resp.ProducerEpoch != 0 {
		t.Fatalf("retried rotation got %d/%d, want %d/0 again", resp.ProducerID, resp.ProducerEpoch, rotated)
	}
}

func TestInitProducerIDFreshProducerAtExhaustedEpochGetsNewProducerID(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	setEpoch(h, "tx", math.MaxInt16-1)
	q := h.initProducer("tx")
	if q.producerID == p.producerID || q.epoch != 0 {
		t.Fatalf("got %+v, want a new producer id with epoch 0", q)
	}
	requireCode(t, "old producer adds", h.add(producer{"tx", p.producerID, math.MaxInt16 - 1}, tp("a", 0)), kerr.InvalidProducerIDMapping)
}

func TestInitProducerIDAbortsOngoingTransactionFirst(t *testing.T) {
	h := newHarness(t, nil)
	old := h.initProducer("tx")
	requireCode(t, "add", h.add(old, tp("a", 0), tp("b", 1)), nil)
	h.markers.hold()

	resp := h.c.InitProducerID(context.Background(), h.initRequest("tx", 4))
	requireCode(t, "InitProducerId while Ongoing", resp.ErrorCode, kerr.ConcurrentTransactions)
	requireCode(t, "retry while markers pending", h.c.InitProducerID(context.Background(), h.initRequest("tx", 4)).ErrorCode, kerr.ConcurrentTransactions)
	if got := h.state("tx"); got != "PrepareAbort" {
		t.Fatalf("state %s, want PrepareAbort", got)
	}
	requireCode(t, "old producer commits", h.end(old, true), kerr.ProducerFenced)

	h.markers.release()
	h.settle()
	calls := h.markers.recorded()
	if len(calls) != 1 || calls[0].commit || calls[0].epoch != old.epoch+1 || calls[0].producerID != old.producerID {
		t.Fatalf("marker calls %+v, want one abort with epoch %d", calls, old.epoch+1)
	}
	cur := h.initProducer("tx")
	if cur.epoch != old.epoch+2 {
		t.Fatalf("after the abort got epoch %d, want %d", cur.epoch, old.epoch+2)
	}
}

func TestInitProducerIDProducerIDFailure(t *testing.T) {
	h := newHarness(t, nil)
	h.ids.fail = errors.New("no block")
	requireCode(t, "InitProducerId", h.c.InitProducerID(context.Background(), h.initRequest("tx", 4)).ErrorCode, kerr.CoordinatorNotAvailable)
	d := h.describe("tx")
	requireCode(t, "describe after failed init", d.ErrorCode, kerr.TransactionalIDNotFound)
	h.ids.fail = nil
	if p := h.initProducer("tx"); p.epoch != 0 {
		t.Fatalf("got %+v after retry, want epoch 0", p)
	}
}

// setEpoch moves an id's epoch, as a long life of epoch bumps would.
func setEpoch(h *harness, id string, epoch int16) {
	h.t.Helper()
	txn, err := h.c.lockTransaction(id, false)
	if err != nil || txn == nil {
		h.t.Fatalf("lookup %q: %v", id, err)
	}
	defer txn.mu.Unlock()
	txn.m.epoch = epoch
}

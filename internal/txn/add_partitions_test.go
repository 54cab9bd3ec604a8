package txn

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAddPartitionsStartsTransactionAndRecordsStartTime(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	started := h.clock.Now()
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	h.clock.Advance(time.Second)
	requireCode(t, "add more", h.add(p, tp("b", 0)), nil)
	requireCode(t, "add offsets", h.addOffsets(p, "g"), nil)
	requireCode(t, "add again: no write", h.add(p, tp("a", 0), tp("b", 0)), nil)

	d := h.describe("tx")
	if d.State != "Ongoing" || d.StartTimestamp != started.UnixMilli() || d.TimeoutMillis != testTimeoutMillis {
		t.Fatalf("describe %+v, want Ongoing since %d", d, started.UnixMilli())
	}
	var got []string
	for _, dt := range d.Topics {
		got = append(got, dt.Topic)
	}
	if !slices.Equal(got, []string{"__consumer_offsets", "a", "b"}) || d.Topics[0].Partitions[0] != testGroupPartition {
		t.Fatalf("describe topics %+v", d.Topics)
	}
	if n := len(h.store.history(t, h.c.PartitionFor("tx"), "tx")); n != 4 {
		t.Fatalf("%d records persisted, want 4 (init, three adds that changed something)", n)
	}
}

func TestAddPartitionsChecksProducer(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "unknown id", h.add(producer{"nope", p.producerID, p.epoch}, tp("a", 0)), kerr.InvalidProducerIDMapping)
	requireCode(t, "other producer id", h.add(producer{"tx", p.producerID + 1, p.epoch}, tp("a", 0)), kerr.InvalidProducerIDMapping)
	requireCode(t, "stale epoch", h.add(producer{"tx", p.producerID, p.epoch - 1}, tp("a", 0)), kerr.ProducerFenced)
	requireCode(t, "empty id", h.add(producer{"", p.producerID, p.epoch}, tp("a", 0)), kerr.InvalidRequest)
	requireCode(t, "offsets, stale epoch, v1", h.addOffsetsVersion(producer{"tx", p.producerID, p.epoch - 1}, "g", 1), kerr.InvalidProducerEpoch)
}

func TestAddPartitionsUnknownPartition(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		cfg.PartitionExists = func(tp TopicPartition) bool { return tp.Topic != "missing" }
	})
	p := h.initProducer("tx")
	resp := h.addPartitions(p, 3, tp("a", 0), tp("missing", 0))
	got := map[string]int16{}
	for _, rt := range resp.Topics {
		got[rt.Topic] = rt.Partitions[0].ErrorCode
	}
	if got["a"] != kerr.OperationNotAttempted.Code || got["missing"] != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("got %v, want a: OPERATION_NOT_ATTEMPTED, missing: UNKNOWN_TOPIC_OR_PARTITION", got)
	}
	if s := h.state("tx"); s != "Empty" {
		t.Fatalf("state %s, want Empty", s)
	}
}

func TestAddPartitionsAppendFailureChangesNothing(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	for _, tc := range []struct {
		err  error
		want *kerr.Error
	}{
		{kerr.NotEnoughReplicas, kerr.CoordinatorNotAvailable},
		{kerr.NotLeaderForPartition, kerr.NotCoordinator},
		{errors.New("disk on fire"), kerr.UnknownServerError},
	} {
		h.store.failNextAppend(tc.err)
		requireCode(t, tc.err.Error(), h.add(p, tp("a", 0)), tc.want)
		if s := h.state("tx"); s != "Empty" {
			t.Fatalf("after failed append state %s, want Empty", s)
		}
	}
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
}

func TestVerifyPartition(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)

	for _, tc := range []struct {
		name       string
		id         string
		producerID int64
		epoch      int16
		tp         TopicPartition
		want       *kerr.Error
	}{
		{"added", "tx", p.producerID, p.epoch, tp("a", 0), nil},
		{"not added", "tx", p.producerID, p.epoch, tp("a", 1), kerr.InvalidTxnState},
		{"stale epoch", "tx", p.producerID, p.epoch - 1, tp("a", 0), kerr.ProducerFenced},
		{"other producer id", "tx", p.producerID + 1, p.epoch, tp("a", 0), kerr.InvalidProducerIDMapping},
		{"unknown id", "other", p.producerID, p.epoch, tp("a", 0), kerr.InvalidProducerIDMapping},
	} {
		if err := h.c.VerifyPartition(tc.id, tc.producerID, tc.epoch, tc.tp); keError(tc.want) != err {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}

	h.markers.hold()
	requireCode(t, "commit", h.end(p, true), nil)
	if err := h.c.VerifyPartition("tx", p.producerID, p.epoch, tp("a", 0)); err != kerr.ConcurrentTransactions {
		t.Fatalf("while committing: got %v, want CONCURRENT_TRANSACTIONS", err)
	}
	h.markers.release()
	h.settle()
	if err := h.c.VerifyPartition("tx", p.producerID, p.epoch, tp("a", 0)); err != kerr.InvalidTxnState {
		t.Fatalf("after commit: got %v, want INVALID_TXN_STATE", err)
	}

	h.c.Unload(h.c.PartitionFor("tx"))
	if err := h.c.VerifyPartition("tx", p.producerID, p.epoch, tp("a", 0)); err != kerr.NotCoordinator {
		t.Fatalf("after unload: got %v, want NOT_COORDINATOR", err)
	}
}

func TestAddPartitionsV4BatchesTransactionsAndVerifyOnly(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx1")
	q := h.initProducer("tx2")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)

	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 4
	verify := kmsg.NewAddPartitionsToTxnRequestTransaction()
	verify.TransactionalID, verify.ProducerID, verify.ProducerEpoch, verify.VerifyOnly = "tx1", p.producerID, p.epoch, true
	verify.Topics = []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: "a", Partitions: []int32{0, 1}}}
	add := kmsg.NewAddPartitionsToTxnRequestTransaction()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = "tx2", q.producerID, q.epoch
	add.Topics = []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: "b", Partitions: []int32{3}}}
	req.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{verify, add}

	resp := h.c.AddPartitionsToTxn(t.Context(), req)
	if len(resp.Transactions) != 2 {
		t.Fatalf("got %d transaction results, want 2", len(resp.Transactions))
	}
	v := resp.Transactions[0]
	if v.TransactionalID != "tx1" || v.Topics[0].Partitions[0].ErrorCode != 0 ||
		v.Topics[0].Partitions[1].ErrorCode != kerr.InvalidTxnState.Code {
		t.Fatalf("verify result %+v, want a-0 ok and a-1 INVALID_TXN_STATE", v)
	}
	if a := resp.Transactions[1]; a.TransactionalID != "tx2" || a.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("add result %+v", a)
	}
	if d := h.describe("tx1"); len(d.Topics) != 1 || len(d.Topics[0].Partitions) != 1 {
		t.Fatalf("verify-only added partitions: %+v", d.Topics)
	}
	if s := h.state("tx2"); s != "Ongoing" {
		t.Fatalf("tx2 state %s, want Ongoing", s)
	}
}

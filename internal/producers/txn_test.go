package producers

import (
	"errors"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/waybill/waybill/internal/records"
)

// txn is the header of a transactional batch.
func txn(pid int64, epoch int16, seq int32, n int32) records.Header {
	h := batch(pid, epoch, seq, n)
	h.Attributes = 0x10
	return h
}

// marker is the header of a transaction marker at offset.
func marker(pid int64, epoch int16, offset int64) records.Header {
	return records.Header{Magic: 2, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: -1,
		Attributes: 0x30, NumRecords: 1, BaseOffset: offset}
}

func TestTransactionOpensAtItsFirstBatch(t *testing.T) {
	a := newAppender(t)
	a.mustProduce(batch(1, 0, 0, 2))        // idempotent only: no transaction
	first := a.mustProduce(txn(1, 0, 2, 3)) // opens at its base offset
	a.mustProduce(txn(2, 0, 0, 1))          // another producer's
	a.mustProduce(txn(1, 0, 5, 1))          // joins
	if got := a.s.TxnFirstOffset(1); got != first || first != 2 {
		t.Fatalf("first offset %d, want %d", got, first)
	}
	if got := a.s.OpenTxns(); !reflect.DeepEqual(got, []OpenTxn{{1, 2}, {2, 5}}) {
		t.Fatalf("open %v", got)
	}
	if ended := a.s.ApplyMarker(marker(1, 0, 7), 3, 99); ended != 2 {
		t.Fatalf("marker ended the transaction at %d, want 2", ended)
	}
	p, _ := a.s.Producer(1)
	if p.TxnFirstOffset != -1 || p.CoordinatorEpoch != 3 || p.LastTimestamp != 99 {
		t.Fatalf("after the marker: %+v", p)
	}
	// A marker without a transaction ends nothing; the next batch opens a new one.
	if ended := a.s.ApplyMarker(marker(1, 0, 8), 3, 100); ended != -1 {
		t.Fatalf("second marker ended %d", ended)
	}
	if first := a.mustProduce(txn(1, 0, 6, 1)); a.s.TxnFirstOffset(1) != first {
		t.Fatalf("new transaction at %d, want %d", a.s.TxnFirstOffset(1), first)
	}
	if a.s.TxnFirstOffset(42) != -1 {
		t.Fatal("unknown producer has a transaction")
	}
}

func TestMarkerChecks(t *testing.T) {
	s := NewState()
	h := txn(1, 5, 0, 1)
	s.Update(h, 1)
	s.ApplyMarker(marker(1, 5, 1), 2, 2)
	if err := s.CheckMarker(1, 4, 2); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("older producer epoch: %v", err)
	}
	if err := s.CheckMarker(1, 5, 1); !errors.Is(err, kerr.TransactionCoordinatorFenced) {
		t.Fatalf("older coordinator epoch: %v", err)
	}
	for _, ok := range []struct {
		epoch int16
		coord int32
	}{{5, 2}, {6, 2}, {5, 3}} {
		if err := s.CheckMarker(1, ok.epoch, ok.coord); err != nil {
			t.Fatalf("epoch %d coordinator %d: %v", ok.epoch, ok.coord, err)
		}
	}
	if err := s.CheckMarker(77, 0, 0); err != nil {
		t.Fatalf("unknown producer: %v", err)
	}
	// A marker with a newer epoch fences the old one.
	s.ApplyMarker(marker(1, 6, 2), 2, 3)
	if _, err := s.Check(txn(1, 5, 1, 1)); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("batch from the fenced epoch: %v", err)
	}
	if _, err := s.Check(txn(1, 6, 0, 1)); err != nil {
		t.Fatalf("new epoch at sequence 0: %v", err)
	}
}

func TestCoordinatorBatchesSkipSequences(t *testing.T) {
	s := NewState()
	for i := range 3 {
		h := txn(9, 2, -1, 1)
		h.BaseOffset = int64(i)
		if err := s.CheckCoordinator(h); err != nil {
			t.Fatal(err)
		}
		s.Update(h, int64(i))
	}
	p, _ := s.Producer(9)
	if p.TxnFirstOffset != 0 || len(p.Batches) != 0 {
		t.Fatalf("after coordinator batches: %+v", p)
	}
	if err := s.CheckCoordinator(txn(9, 1, -1, 1)); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("old epoch: %v", err)
	}
	if err := s.CheckCoordinator(batch(-1, -1, -1, 1)); err != nil {
		t.Fatalf("no producer: %v", err)
	}
}

func TestReplayRebuildsTransactions(t *testing.T) {
	s := NewState()
	for _, h := range []records.Header{txn(1, 0, 0, 1), txn(2, 0, 0, 1), txn(1, 0, 1, 1)} {
		s.Replay(h, 1)
	}
	s.ApplyMarker(marker(2, 0, 3), 0, 1)
	if got := s.OpenTxns(); !reflect.DeepEqual(got, []OpenTxn{{1, 0}}) {
		t.Fatalf("open %v", got)
	}
}

func TestExpireKeepsOpenTransactions(t *testing.T) {
	s := NewState()
	s.Update(txn(1, 0, 0, 1), 1000)
	s.Update(batch(2, 0, 0, 1), 1000)
	if n := s.Expire(1_000_000, 10); n != 1 {
		t.Fatalf("expired %d", n)
	}
	if _, ok := s.Producer(1); !ok {
		t.Fatal("producer with an open transaction expired")
	}
	s.ApplyMarker(marker(1, 0, 5), 0, 1000)
	if n := s.Expire(1_000_000, 10); n != 1 {
		t.Fatalf("after its marker: expired %d", n)
	}
}

func TestSnapshotKeepsOpenTransactions(t *testing.T) {
	fsys := memFS(t)
	s := NewState()
	s.Update(txn(1, 0, 0, 1), 1)
	h := txn(2, 3, 0, 1)
	h.BaseOffset = 1
	s.Update(h, 1)
	s.ApplyMarker(marker(2, 3, 2), 7, 1)
	if err := s.WriteSnapshot(fsys, dir, 3); err != nil {
		t.Fatal(err)
	}
	got, _, err := LoadSnapshot(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.OpenTxns(), []OpenTxn{{1, 0}}) {
		t.Fatalf("open after load: %v", got.OpenTxns())
	}
	if err := got.CheckMarker(2, 3, 6); !errors.Is(err, kerr.TransactionCoordinatorFenced) {
		t.Fatalf("coordinator epoch not kept: %v", err)
	}
}

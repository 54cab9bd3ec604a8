package producers

import (
	"errors"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/waybill/waybill/internal/records"
)

func TestNonIdempotentBatchesSkipChecks(t *testing.T) {
	a := newAppender(t)
	h := batch(-1, -1, -1, 3)
	a.mustProduce(h)
	a.mustProduce(h)
	if a.s.Len() != 0 {
		t.Fatalf("tracked %d producers", a.s.Len())
	}
}

func TestUnknownProducerAcceptsAnySequence(t *testing.T) {
	a := newAppender(t)
	a.mustProduce(batch(1, 0, 4711, 2)) // KIP-360: e.g. after expiry
	a.mustProduce(batch(1, 0, 4713, 1))
}

func TestSequenceMustFollow(t *testing.T) {
	a := newAppender(t)
	a.mustProduce(batch(1, 0, 0, 5)) // 0-4
	for _, seq := range []int32{6, 4, 3, 100, -1} {
		if _, err := a.produce(batch(1, 0, seq, 1)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
			t.Errorf("seq %d: %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", seq, err)
		}
	}
	a.mustProduce(batch(1, 0, 5, 1))
}

func TestDuplicateReturnsOriginalOffsets(t *testing.T) {
	a := newAppender(t)
	var offsets []int64
	for i := int32(0); i < 6; i++ {
		offsets = append(offsets, a.mustProduce(batch(1, 0, i*2, 2)))
	}
	// Batches 1-5 are cached; each retry is answered with its first offset.
	for i := 1; i < 6; i++ {
		dup, err := a.s.Check(batch(1, 0, int32(i*2), 2))
		if err != nil || dup == nil {
			t.Fatalf("retry of batch %d: dup %v, err %v", i, dup, err)
		}
		if dup.FirstOffset != offsets[i] || dup.LastOffset != offsets[i]+1 || dup.FirstSeq != int32(i*2) {
			t.Fatalf("retry of batch %d: %+v, want first offset %d", i, dup, offsets[i])
		}
	}
	// The oldest fell out of the cache: it is now out of order.
	if _, err := a.s.Check(batch(1, 0, 0, 2)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("retry of an evicted batch: %v", err)
	}
	// Same first sequence, different last: not a duplicate.
	if _, err := a.s.Check(batch(1, 0, 10, 3)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("overlapping batch: %v", err)
	}
	// Duplicate detection does not change the state.
	if p, _ := a.s.Producer(1); len(p.Batches) != MaxCachedBatches || p.Batches[4].FirstSeq != 10 {
		t.Fatalf("cache %+v", p.Batches)
	}
}

func TestEpochRules(t *testing.T) {
	a := newAppender(t)
	a.mustProduce(batch(1, 5, 0, 3))
	if _, err := a.produce(batch(1, 4, 3, 1)); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("older epoch: %v, want INVALID_PRODUCER_EPOCH", err)
	}
	// A duplicate of a batch from the current epoch sent with an older epoch is fenced,
	// not deduplicated.
	if _, err := a.produce(batch(1, 4, 0, 3)); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("older epoch retry: %v", err)
	}
	if _, err := a.produce(batch(1, 6, 3, 1)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("new epoch not at 0: %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", err)
	}
	a.mustProduce(batch(1, 6, 0, 2))
	p, _ := a.s.Producer(1)
	if p.Epoch != 6 || len(p.Batches) != 1 {
		t.Fatalf("after the bump: %+v", p)
	}
	// The old epoch's batches are forgotten: its retry is fenced.
	if _, err := a.produce(batch(1, 5, 0, 3)); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("retry from the old epoch: %v", err)
	}
	a.mustProduce(batch(1, 6, 2, 1))
}

func TestSequenceWrapsAtMaxInt32(t *testing.T) {
	a := newAppender(t)
	a.mustProduce(batch(1, 0, math.MaxInt32-1, 2)) // MaxInt32-1, MaxInt32
	if _, err := a.produce(batch(1, 0, math.MaxInt32, 1)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("reused sequence: %v", err)
	}
	a.mustProduce(batch(1, 0, 0, 1))

	// A batch straddling the wrap: its last sequence is 1.
	b := newAppender(t)
	b.mustProduce(batch(2, 0, math.MaxInt32-1, 4))
	if p, _ := b.s.Producer(2); p.Batches[0].LastSeq != 1 {
		t.Fatalf("last seq %d, want 1", p.Batches[0].LastSeq)
	}
	b.mustProduce(batch(2, 0, 2, 1))
	if dup, err := b.s.Check(batch(2, 0, math.MaxInt32-1, 4)); err != nil || dup == nil {
		t.Fatalf("retry across the wrap: %v, %v", dup, err)
	}
}

func TestProducersAreIndependent(t *testing.T) {
	a := newAppender(t)
	a.mustProduce(batch(1, 0, 0, 1))
	a.mustProduce(batch(2, 3, 0, 1))
	a.mustProduce(batch(1, 0, 1, 1))
	if _, err := a.produce(batch(2, 3, 5, 1)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatal(err)
	}
	if _, err := a.produce(batch(1, 0, 2, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestEpochWithOnlyAMarkerExpectsSequenceZero(t *testing.T) {
	s := NewState()
	marker := records.Header{Magic: 2, ProducerID: 9, ProducerEpoch: 2, BaseSequence: -1,
		Attributes: 0x30, NumRecords: 1, BaseOffset: 10}
	s.Update(marker, 50)
	if _, err := s.Check(batch(9, 2, 7, 1)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("seq 7 after a marker: %v", err)
	}
	if _, err := s.Check(batch(9, 2, 0, 1)); err != nil {
		t.Fatalf("seq 0 after a marker: %v", err)
	}
}

func TestErrorsMapToKafkaCodes(t *testing.T) {
	a := newAppender(t)
	a.mustProduce(batch(1, 1, 0, 1))
	_, err := a.produce(batch(1, 0, 1, 1))
	if records.KafkaCode(err) != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("code %d for %v", records.KafkaCode(err), err)
	}
	_, err = a.produce(batch(1, 1, 9, 1))
	if records.KafkaCode(err) != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("code %d for %v", records.KafkaCode(err), err)
	}
}

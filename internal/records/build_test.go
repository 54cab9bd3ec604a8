package records

import "testing"

func TestBuildHeader(t *testing.T) {
	recs := []Record{{TimestampDelta: 10}, {TimestampDelta: 40}, {TimestampDelta: 20}}
	b := Build(BuildOptions{BaseOffset: 100, PartitionLeaderEpoch: 3, BaseTimestamp: 1000,
		Producer: idempotent(), Transactional: true}, recs)
	h, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{BaseOffset: 100, Length: int32(len(b) - lengthOffset), PartitionLeaderEpoch: 3,
		Magic: 2, CRC: h.CRC, Attributes: attrTransactional, LastOffsetDelta: 2,
		BaseTimestamp: 1000, MaxTimestamp: 1040, ProducerID: 7, ProducerEpoch: 2,
		BaseSequence: 10, NumRecords: 3}
	if h != want {
		t.Fatalf("header\n got %+v\nwant %+v", h, want)
	}
	if err := CheckCRC(b, h); err != nil {
		t.Fatal(err)
	}
	if h.LastSequence() != 12 {
		t.Fatalf("last sequence %d", h.LastSequence())
	}
}

func TestBuildDefaultsToNoProducer(t *testing.T) {
	h, err := ParseHeader(Build(BuildOptions{}, []Record{{}}))
	if err != nil {
		t.Fatal(err)
	}
	if h.ProducerID != -1 || h.ProducerEpoch != -1 || h.BaseSequence != -1 || h.HasProducer() {
		t.Fatalf("producer fields %d/%d/%d", h.ProducerID, h.ProducerEpoch, h.BaseSequence)
	}
}

func TestBuildPanicsWithoutRecords(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Build of no records did not panic")
		}
	}()
	Build(BuildOptions{}, nil)
}

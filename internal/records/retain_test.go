package records

import (
	"bytes"
	"testing"
)

// keepKeys keeps the records whose key is one of keys (nil keys never match).
func keepKeys(keys ...string) func(Record) bool {
	return func(r Record) bool {
		for _, k := range keys {
			if r.Key != nil && string(r.Key) == k {
				return true
			}
		}
		return false
	}
}

func TestRetainKeepsOffsetsTimestampsAndHeaderFields(t *testing.T) {
	recs := sampleRecords()
	in := Build(BuildOptions{BaseOffset: 100, PartitionLeaderEpoch: 9, BaseTimestamp: 5000,
		Producer: idempotent(), Transactional: true}, recs)
	out, kept, changed, err := Retain(in, keepKeys("k0", "k3"))
	if err != nil || kept != 2 || !changed {
		t.Fatalf("retain: kept %d changed %v err %v", kept, changed, err)
	}
	hIn, _ := ParseHeader(in)
	h, err := ParseHeader(out)
	if err != nil || CheckCRC(out, h) != nil {
		t.Fatalf("result header %v crc %v", err, CheckCRC(out, h))
	}
	if h.BaseOffset != 100 || h.PartitionLeaderEpoch != 9 || h.LastOffsetDelta != hIn.LastOffsetDelta ||
		h.ProducerID != 7 || h.ProducerEpoch != 2 || h.BaseSequence != 10 || !h.IsTransactional() ||
		h.BaseTimestamp != 5000 || h.NumRecords != 2 || h.Size() != len(out) {
		t.Fatalf("header %+v", h)
	}
	if h.MaxTimestamp != 5000+1<<40 {
		t.Fatalf("max timestamp %d", h.MaxTimestamp)
	}
	got := collect(t, out)
	if len(got) != 2 || got[0].OffsetDelta != 0 || got[1].OffsetDelta != 3 ||
		got[1].TimestampDelta != 1<<40 || string(got[1].Key) != "k3" || len(got[1].Headers) != 2 {
		t.Fatalf("records %+v", got)
	}
}

func TestRetainMaxTimestampFollowsKeptRecords(t *testing.T) {
	in := Build(BuildOptions{BaseTimestamp: 1000}, []Record{
		{TimestampDelta: 7, Key: []byte("a")}, {TimestampDelta: 50, Key: []byte("b")}})
	out, _, _, err := Retain(in, keepKeys("a"))
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseHeader(out); h.MaxTimestamp != 1007 {
		t.Fatalf("max timestamp %d, want 1007", h.MaxTimestamp)
	}
}

func TestRetainEverythingReturnsTheBatch(t *testing.T) {
	in := Build(BuildOptions{}, sampleRecords())
	withTail := append(append([]byte(nil), in...), 1, 2, 3)
	out, kept, changed, err := Retain(withTail, func(Record) bool { return true })
	if err != nil || changed || kept != 4 || !bytes.Equal(out, in) {
		t.Fatalf("kept %d changed %v err %v", kept, changed, err)
	}
}

func TestRetainNothingLeavesAnEmptyBatch(t *testing.T) {
	in := Build(BuildOptions{BaseOffset: 40, BaseTimestamp: 3, Producer: idempotent()}, sampleRecords())
	hIn, _ := ParseHeader(in)
	out, kept, changed, err := Retain(in, func(Record) bool { return false })
	if err != nil || kept != 0 || !changed {
		t.Fatalf("kept %d changed %v err %v", kept, changed, err)
	}
	h, _ := ParseHeader(out)
	if len(out) != HeaderSize || h.NumRecords != 0 || h.LastOffset() != hIn.LastOffset() ||
		h.MaxTimestamp != hIn.MaxTimestamp || h.LastSequence() != hIn.LastSequence() || CheckCRC(out, h) != nil {
		t.Fatalf("empty batch %+v", h)
	}
	if err := Iterate(out, func(Record) error { t.Fatal("record in empty batch"); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestRetainCompressedWritesUncompressed(t *testing.T) {
	raw := Build(BuildOptions{Producer: idempotent()}, sampleRecords())
	for _, e := range encoders(t) {
		t.Run(e.name, func(t *testing.T) {
			in := compressed(t, raw, e.codec, e.enc)
			all, _, changed, err := Retain(in, func(Record) bool { return true })
			if err != nil || changed || !bytes.Equal(all, in) {
				t.Fatalf("keeping all: changed %v err %v", changed, err)
			}
			out, kept, _, err := Retain(in, func(r Record) bool { return len(r.Key) == 0 })
			if err != nil || kept != 2 {
				t.Fatalf("kept %d err %v", kept, err)
			}
			h, _ := ParseHeader(out)
			if h.Codec() != CodecNone {
				t.Fatalf("codec %d", h.Codec())
			}
			got := collect(t, out)
			if len(got) != 2 || got[0].OffsetDelta != 1 || got[1].OffsetDelta != 2 ||
				string(got[0].Value) != "no key" || got[1].Value != nil {
				t.Fatalf("records %+v", got)
			}
		})
	}
}

func TestRetainRejectsDamage(t *testing.T) {
	in := Build(BuildOptions{}, sampleRecords())
	bad := append([]byte(nil), in...)
	bad[len(bad)-1] ^= 0xff
	if _, _, _, err := Retain(bad, func(Record) bool { return true }); err == nil {
		t.Fatal("bad CRC accepted")
	}
	if _, _, _, err := Retain(in[:HeaderSize-1], func(Record) bool { return true }); err == nil {
		t.Fatal("short batch accepted")
	}
}

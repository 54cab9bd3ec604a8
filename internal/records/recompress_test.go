package records

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

var allCodecs = []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd}

// TestRecompressKeepsEverythingButTheCodec converts between every pair of codecs and
// checks that header fields, records and the CRC survive.
func TestRecompressKeepsEverythingButTheCodec(t *testing.T) {
	want := sampleRecords()
	raw := Build(BuildOptions{BaseTimestamp: 1_700_000_000_000, PartitionLeaderEpoch: 4,
		Producer: idempotent(), Transactional: true}, want)
	for _, from := range allCodecs {
		src := raw
		if from != CodecNone {
			var err error
			if src, err = Recompress(raw, mustHeader(t, raw), from, 0, RecordRules{}); err != nil {
				t.Fatal(err)
			}
		}
		hs := mustHeader(t, src)
		for _, to := range allCodecs {
			out, err := Recompress(src, hs, to, 0, RecordRules{})
			if err != nil {
				t.Fatalf("%d→%d: %v", from, to, err)
			}
			h := mustHeader(t, out)
			if h.Codec() != to {
				t.Fatalf("%d→%d: codec %d", from, to, h.Codec())
			}
			same := h
			same.Length, same.CRC, same.Attributes = hs.Length, hs.CRC, hs.Attributes
			if same != hs || h.Attributes&^attrCompressionMask != hs.Attributes&^attrCompressionMask {
				t.Fatalf("%d→%d: header %+v, want %+v apart from codec", from, to, h, hs)
			}
			if err := sameRecords(collect(t, out), want); err != nil {
				t.Fatalf("%d→%d: %v", from, to, err)
			}
		}
	}
}

// TestRecompressedBatchesDecodeInFranzGo checks the encodings against a real client's
// decompressor, not only our own.
func TestRecompressedBatchesDecodeInFranzGo(t *testing.T) {
	raw := Build(BuildOptions{}, sampleRecords())
	h := mustHeader(t, raw)
	dec := kgo.DefaultDecompressor()
	for _, to := range allCodecs[1:] {
		for _, level := range []int{-1, 1, 9, 17, 22} {
			out, err := Recompress(raw, h, to, level, RecordRules{})
			if err != nil {
				t.Fatalf("codec %d level %d: %v", to, level, err)
			}
			got, err := dec.Decompress(out[HeaderSize:], kgo.CompressionCodecType(to))
			if err != nil {
				t.Fatalf("codec %d level %d: franz-go: %v", to, level, err)
			}
			if !bytes.Equal(got, raw[HeaderSize:]) {
				t.Fatalf("codec %d level %d: franz-go decoded other bytes", to, level)
			}
		}
	}
}

func TestRecompressLargeSnappyUsesXerialBlocks(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // 160 KB: several 32 KiB blocks
	raw := Build(BuildOptions{}, []Record{{Key: []byte("k"), Value: big}})
	out, err := Recompress(raw, mustHeader(t, raw), CodecSnappy, 0, RecordRules{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out[HeaderSize:], xerialMagic) {
		t.Fatal("snappy output is not xerial framed, as Kafka's broker writes it")
	}
	if got := collect(t, out); len(got) != 1 || !bytes.Equal(got[0].Value, big) {
		t.Fatal("large snappy batch did not round-trip")
	}
}

func TestRecompressAppliesRules(t *testing.T) {
	b := timestampBatch(1000, CodecGzip)
	_, err := Recompress(b, mustHeader(t, b), CodecZstd, 3, RecordRules{CheckTimestamps: true, MinTimestamp: 990, MaxTimestamp: 2000})
	var rejected *RejectedRecordsError
	if !errors.As(err, &rejected) || len(rejected.Records) != 1 || rejected.Records[0].Index != 1 {
		t.Fatalf("Recompress: %v, want record 1 rejected", err)
	}
}

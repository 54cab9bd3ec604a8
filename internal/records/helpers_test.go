package records

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sampleRecords are records exercising null and empty keys, values and headers.
func sampleRecords() []Record {
	return []Record{
		{TimestampDelta: 0, Key: []byte("k0"), Value: []byte("v0")},
		{TimestampDelta: 5, Key: nil, Value: []byte("no key")},
		{TimestampDelta: -3, Key: []byte{}, Value: nil},
		{TimestampDelta: 1 << 40, Key: []byte("k3"), Value: bytes.Repeat([]byte("x"), 300),
			Headers: []RecordHeader{{Key: "h", Value: []byte("1")}, {Key: "", Value: nil}}},
	}
}

func idempotent() *ProducerFields { return &ProducerFields{ID: 7, Epoch: 2, BaseSequence: 10} }

// resign recomputes the CRC of the batch at the start of b after a test edited it.
func resign(b []byte) []byte {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[crcStart:], crc32c))
	return b
}

// batchFromSection wraps a hand-made records section (already compressed if codec is
// set) in a valid header claiming count records.
func batchFromSection(section []byte, count int32, codec Codec) []byte {
	b := make([]byte, HeaderSize, HeaderSize+len(section))
	be := binary.BigEndian
	be.PutUint32(b[8:], uint32(HeaderSize-lengthOffset+len(section)))
	b[16] = 2
	be.PutUint16(b[21:], uint16(codec))
	be.PutUint32(b[23:], uint32(count-1))
	be.PutUint64(b[43:], ^uint64(0))
	be.PutUint16(b[51:], 0xffff)
	be.PutUint32(b[53:], ^uint32(0))
	be.PutUint32(b[57:], uint32(count))
	return resign(append(b, section...))
}

// compressed turns an uncompressed batch into one compressed with enc.
func compressed(t testing.TB, raw []byte, codec Codec, enc func([]byte) []byte) []byte {
	t.Helper()
	h, err := ParseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	section := enc(raw[HeaderSize:h.Size()])
	b := append([]byte(nil), raw[:HeaderSize]...)
	b = append(b, section...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-lengthOffset))
	binary.BigEndian.PutUint16(b[21:], uint16(h.Attributes)&^attrCompressionMask|uint16(codec))
	return resign(b)
}

// encoder is one way a client compresses a batch.
type encoder struct {
	name  string
	codec Codec
	enc   func([]byte) []byte
}

func encoders(t testing.TB) []encoder {
	t.Helper()
	kgoEnc := func(c kgo.CompressionCodec) func([]byte) []byte {
		comp, err := kgo.DefaultCompressor(c)
		if err != nil {
			t.Fatal(err)
		}
		return func(src []byte) []byte {
			out, _ := comp.Compress(new(bytes.Buffer), src)
			return append([]byte(nil), out...)
		}
	}
	return []encoder{
		{"gzip", CodecGzip, func(src []byte) []byte {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(src)
			w.Close()
			return buf.Bytes()
		}},
		{"snappy-raw", CodecSnappy, func(src []byte) []byte { return snappy.Encode(nil, src) }},
		{"snappy-xerial", CodecSnappy, func(src []byte) []byte { return xerial.Encode(nil, src) }},
		{"snappy-xerial-small-blocks", CodecSnappy, func(src []byte) []byte { return xerialBlocks(src, 100) }},
		{"lz4", CodecLZ4, func(src []byte) []byte {
			var buf bytes.Buffer
			w := lz4.NewWriter(&buf)
			w.Write(src)
			w.Close()
			return buf.Bytes()
		}},
		{"zstd", CodecZstd, func(src []byte) []byte {
			w, _ := zstd.NewWriter(nil)
			defer w.Close()
			return w.EncodeAll(src, nil)
		}},
		{"kgo-gzip", CodecGzip, kgoEnc(kgo.GzipCompression())},
		{"kgo-snappy", CodecSnappy, kgoEnc(kgo.SnappyCompression())},
		{"kgo-lz4", CodecLZ4, kgoEnc(kgo.Lz4Compression())},
		{"kgo-zstd", CodecZstd, kgoEnc(kgo.ZstdCompression())},
	}
}

// xerialBlocks frames src as snappy-java does, in blocks of blockSize input bytes.
func xerialBlocks(src []byte, blockSize int) []byte {
	out := append([]byte(nil), xerialMagic...)
	out = binary.BigEndian.AppendUint32(out, 1)
	out = binary.BigEndian.AppendUint32(out, 1)
	for len(src) > 0 {
		n := min(blockSize, len(src))
		block := snappy.Encode(nil, src[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		out = append(out, block...)
		src = src[n:]
	}
	return out
}

// collect decodes every record of batch, copying them out.
func collect(t testing.TB, batch []byte) []Record {
	t.Helper()
	var out []Record
	err := Iterate(batch, func(r Record) error {
		c := Record{OffsetDelta: r.OffsetDelta, TimestampDelta: r.TimestampDelta,
			Key: clone(r.Key), Value: clone(r.Value)}
		for _, h := range r.Headers {
			c.Headers = append(c.Headers, RecordHeader{Key: h.Key, Value: clone(h.Value)})
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	return out
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// sameRecords compares decoded records with the ones given to Build, whose offset
// deltas Build assigns.
func sameRecords(got, want []Record) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.OffsetDelta != int32(i) || g.TimestampDelta != w.TimestampDelta ||
			!sameBytes(g.Key, w.Key) || !sameBytes(g.Value, w.Value) || len(g.Headers) != len(w.Headers) {
			return fmt.Errorf("record %d: got %+v, want %+v", i, g, w)
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key || !sameBytes(g.Headers[j].Value, w.Headers[j].Value) {
				return fmt.Errorf("record %d header %d: got %+v, want %+v", i, j, g.Headers[j], w.Headers[j])
			}
		}
	}
	return nil
}

// sameBytes is bytes.Equal that also tells null from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

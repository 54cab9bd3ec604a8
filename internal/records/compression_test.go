package records

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestCompressedRoundTrip(t *testing.T) {
	want := sampleRecords()
	raw := Build(BuildOptions{Producer: idempotent()}, want)
	for _, e := range encoders(t) {
		t.Run(e.name, func(t *testing.T) {
			b := compressed(t, raw, e.codec, e.enc)
			h, err := Validate(b, ValidateOptions{AllowZstd: true})
			if err != nil {
				t.Fatal(err)
			}
			if h.Codec() != e.codec {
				t.Fatalf("codec %d, want %d", h.Codec(), e.codec)
			}
			if err := sameRecords(collect(t, b), want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestZstdNeedsProduceV7(t *testing.T) {
	for _, e := range encoders(t) {
		if e.codec != CodecZstd {
			continue
		}
		b := compressed(t, Build(BuildOptions{}, sampleRecords()), e.codec, e.enc)
		if _, err := Validate(b, ValidateOptions{}); !errors.Is(err, ErrBadCompression) {
			t.Fatalf("%s: Validate: %v, want ErrBadCompression", e.name, err)
		}
	}
}

func TestCorruptCompressedData(t *testing.T) {
	raw := Build(BuildOptions{}, sampleRecords())
	for _, e := range encoders(t) {
		t.Run(e.name, func(t *testing.T) {
			b := compressed(t, raw, e.codec, func(src []byte) []byte {
				out := e.enc(src)
				return out[:len(out)/2] // torn
			})
			_, err := Validate(b, ValidateOptions{AllowZstd: true})
			if !errors.Is(err, ErrCorruptCompressed) && !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("Validate: %v, want ErrCorruptCompressed or ErrInvalidRecord", err)
			}
			if err := Iterate(b, func(Record) error { return nil }); err == nil {
				t.Fatal("Iterate accepted torn compressed data")
			}
		})
	}
	garbage := batchFromSection([]byte("definitely not compressed"), 1, CodecGzip)
	if _, err := Validate(garbage, ValidateOptions{}); !errors.Is(err, ErrCorruptCompressed) {
		t.Fatalf("gzip garbage: %v", err)
	}
}

// TestDecompressionBomb feeds each codec a batch whose records expand far past the
// bound: validation must stop at the bound, not after decompressing everything.
func TestDecompressionBomb(t *testing.T) {
	big := Build(BuildOptions{}, []Record{{Value: make([]byte, 8<<20)}})
	const limit = 1 << 20
	for _, e := range encoders(t) {
		if e.name == "snappy-xerial-small-blocks" {
			continue // 80 000 blocks; the other snappy shapes cover the same path
		}
		t.Run(e.name, func(t *testing.T) {
			b := compressed(t, big, e.codec, e.enc)
			if len(b) > limit {
				t.Fatalf("compressed bomb is %d bytes", len(b))
			}
			_, err := Validate(b, ValidateOptions{AllowZstd: true, MaxUncompressedBytes: limit})
			if !errors.Is(err, ErrUncompressedTooLarge) {
				t.Fatalf("Validate: %v, want ErrUncompressedTooLarge", err)
			}
			// The default bound (32 × max.message.bytes) admits it.
			if _, err := Validate(b, ValidateOptions{AllowZstd: true}); err != nil {
				t.Fatalf("Validate with the default bound: %v", err)
			}
		})
	}
}

func TestRecordCountBeyondDecompressionBound(t *testing.T) {
	b := batchFromSection([]byte{0}, 1<<30, CodecGzip)
	if _, err := Validate(b, ValidateOptions{MaxUncompressedBytes: 1 << 20}); !errors.Is(err, ErrUncompressedTooLarge) {
		t.Fatalf("Validate: %v", err)
	}
}

func TestSnappyXerialFraming(t *testing.T) {
	payload := bytes.Repeat([]byte("abc"), 1000)
	header := xerialBlocks(nil, 1)
	for _, tc := range []struct {
		name string
		src  []byte
		ok   bool
	}{
		{"many blocks", xerialBlocks(payload, 7), true},
		{"header only", header, true},
		{"short header", header[:12], false},
		{"torn block length", append(append([]byte(nil), header...), 0, 0), false},
		{"block past the end", append(append([]byte(nil), header...), 0, 0, 0, 9, 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := unsnappy(nil, tc.src, 1<<20)
			if tc.ok != (err == nil) {
				t.Fatalf("unsnappy: %v", err)
			}
			if err != nil && !errors.Is(err, ErrCorruptCompressed) {
				t.Fatalf("unsnappy: %v, want ErrCorruptCompressed", err)
			}
			if tc.name == "many blocks" && !bytes.Equal(out, payload) {
				t.Fatal("payload differs")
			}
		})
	}
}

// TestDecoderReuse runs many decompressions through the pools, alternating payloads, to
// catch state leaking from one use of a pooled decoder into the next.
func TestDecoderReuse(t *testing.T) {
	for _, e := range encoders(t) {
		batches := make([][]byte, 3)
		wants := make([][]Record, 3)
		for i := range batches {
			wants[i] = []Record{{Value: []byte(fmt.Sprint("payload ", i, " ", bytes.Repeat([]byte{'z'}, i*1000)))}}
			batches[i] = compressed(t, Build(BuildOptions{}, wants[i]), e.codec, e.enc)
		}
		for round := 0; round < 20; round++ {
			i := round % 3
			if _, err := Validate(batches[i], ValidateOptions{AllowZstd: true}); err != nil {
				t.Fatalf("%s round %d: %v", e.name, round, err)
			}
			if err := sameRecords(collect(t, batches[i]), wants[i]); err != nil {
				t.Fatalf("%s round %d: %v", e.name, round, err)
			}
		}
	}
}

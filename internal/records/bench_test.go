package records

import (
	"bytes"
	"strings"
	"testing"
)

// benchBatch is an uncompressed batch of 16 records with 1 KiB values: 16 KiB of
// payload, a typical linger-filled producer batch.
func benchBatch() []byte {
	recs := make([]Record, 16)
	for i := range recs {
		recs[i] = Record{TimestampDelta: int64(i), Key: []byte("key-0123"),
			Value: bytes.Repeat([]byte{byte(i)}, 1024)}
	}
	return Build(BuildOptions{Producer: idempotent()}, recs)
}

func BenchmarkValidateUncompressed16KiB(b *testing.B) {
	batch := benchBatch()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(batch, ValidateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateCompressed(b *testing.B) {
	raw := benchBatch()
	for _, e := range encoders(b) {
		if strings.HasPrefix(e.name, "kgo-") || e.name == "snappy-xerial-small-blocks" {
			continue
		}
		batch := compressed(b, raw, e.codec, e.enc)
		b.Run(e.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Validate(batch, ValidateOptions{AllowZstd: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

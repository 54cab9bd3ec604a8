package records

import (
	"errors"
	"testing"
)

// fuzzSeeds are valid batches of every shape plus a few broken ones; the committed
// corpus under testdata/fuzz adds mutations found worth keeping.
func fuzzSeeds(f *testing.F) {
	raw := Build(BuildOptions{Producer: idempotent()}, sampleRecords())
	f.Add(raw)
	f.Add(ControlBatch(1, 0, true, 5, 10))
	f.Add(batchFromSection(nil, 0, CodecNone))
	for _, e := range encoders(f) {
		f.Add(compressed(f, raw, e.codec, e.enc))
	}
	f.Add(raw[:len(raw)-3])
}

const fuzzLimit = 4 << 20

var fuzzOptions = ValidateOptions{AllowZstd: true, AllowControl: true, MaxUncompressedBytes: fuzzLimit}

// lowerIterateLimit keeps one fuzz input from decompressing a gigabyte; Validate's bound
// stays at or below it, so the Validate-implies-Iterate property still holds.
func lowerIterateLimit(f *testing.F) {
	old := iterateLimit
	iterateLimit = fuzzLimit
	f.Cleanup(func() { iterateLimit = old })
}

// FuzzValidate checks that Validate never panics, always returns an error KafkaCode
// maps, and that whatever it accepts Iterate decodes with the same record count.
func FuzzValidate(f *testing.F) {
	lowerIterateLimit(f)
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Validate(b, fuzzOptions)
		if err != nil {
			if KafkaCode(err) <= 0 {
				t.Fatalf("error %v maps to code %d", err, KafkaCode(err))
			}
			return
		}
		n := int32(0)
		if err := Iterate(b, func(r Record) error {
			if r.OffsetDelta != n {
				return errors.New("offset delta differs from index")
			}
			n++
			return nil
		}); err != nil {
			t.Fatalf("Validate accepted a batch Iterate rejects: %v", err)
		}
		if n != h.NumRecords {
			t.Fatalf("Iterate saw %d records, header says %d", n, h.NumRecords)
		}
	})
}

// FuzzIterate checks that Iterate never panics and that ParseControlType, built on it,
// does not either.
func FuzzIterate(f *testing.F) {
	lowerIterateLimit(f)
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Iterate(b, func(r Record) error {
			_ = len(r.Key) + len(r.Value) + len(r.Headers)
			return nil
		})
		_, _ = ParseControlType(b)
	})
}

package records

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestValidateAcceptsBuiltBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts BuildOptions
	}{
		{"plain", BuildOptions{BaseTimestamp: 1700000000000}},
		{"idempotent", BuildOptions{Producer: idempotent()}},
		{"transactional", BuildOptions{Producer: idempotent(), Transactional: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Build(tc.opts, sampleRecords())
			h, err := Validate(b, ValidateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if h.NumRecords != 4 || h.Size() != len(b) {
				t.Fatalf("header %+v for %d bytes", h, len(b))
			}
		})
	}
}

// TestValidateBatchFraming covers the checks on the batch as a whole, in the order
// Validate makes them.
func TestValidateBatchFraming(t *testing.T) {
	good := Build(BuildOptions{}, sampleRecords())
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	setLength := func(n int32) []byte {
		return edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], uint32(n)); return b })
	}
	for _, tc := range []struct {
		name string
		b    []byte
		opts ValidateOptions
		want error
	}{
		{"empty", nil, ValidateOptions{}, ErrNoBatch},
		{"shorter than the length field", good[:11], ValidateOptions{}, ErrNoBatch},
		{"length below the v2 header", setLength(HeaderSize - lengthOffset - 1), ValidateOptions{}, ErrShortBatch},
		{"negative length", setLength(-5), ValidateOptions{}, ErrShortBatch},
		{"truncated", good[:len(good)-1], ValidateOptions{}, ErrNoBatch},
		{"trailing byte", append(append([]byte(nil), good...), 0), ValidateOptions{}, ErrNotOneBatch},
		{"two batches", append(append([]byte(nil), good...), good...), ValidateOptions{}, ErrNotOneBatch},
		{"magic 1", edit(func(b []byte) []byte { b[16] = 1; return b }), ValidateOptions{}, ErrBadMagic},
		{"magic 3", edit(func(b []byte) []byte { b[16] = 3; return b }), ValidateOptions{}, ErrBadMagic},
		{"unknown codec", edit(func(b []byte) []byte { b[22] |= 5; return resign(b) }), ValidateOptions{}, ErrBadCompression},
		{"too large", good, ValidateOptions{MaxMessageBytes: len(good) - 1}, ErrTooLarge},
		{"bad crc", edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ValidateOptions{}, ErrBadCRC},
		{"control from a client", ControlBatch(1, 0, true, 0, 0), ValidateOptions{}, ErrControlBatch},
		{"zero records", batchFromSection(nil, 0, CodecNone), ValidateOptions{}, ErrInvalidRecord},
		{"count above last offset delta + 1", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[23:], 2)
			return resign(b)
		}), ValidateOptions{}, ErrInvalidRecord},
		{"count below the records present", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[23:], 2)
			binary.BigEndian.PutUint32(b[57:], 3)
			return resign(b)
		}), ValidateOptions{}, ErrInvalidRecord},
		{"count above the records present", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[23:], 4)
			binary.BigEndian.PutUint32(b[57:], 5)
			return resign(b)
		}), ValidateOptions{}, ErrInvalidRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(tc.b, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidateSizeLimitIsInclusive(t *testing.T) {
	b := Build(BuildOptions{}, sampleRecords())
	if _, err := Validate(b, ValidateOptions{MaxMessageBytes: len(b)}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateControlWhenAllowed(t *testing.T) {
	if _, err := Validate(ControlBatch(1, 0, false, 3, 99), ValidateOptions{AllowControl: true}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateProducerFields(t *testing.T) {
	for _, tc := range []struct {
		name          string
		producer      ProducerFields
		transactional bool
		wantErr       bool
	}{
		{"none", NoProducer, false, false},
		{"idempotent", ProducerFields{ID: 0, Epoch: 0, BaseSequence: 0}, false, false},
		{"transactional", ProducerFields{ID: 3, Epoch: 1, BaseSequence: 5}, true, false},
		{"negative epoch", ProducerFields{ID: 3, Epoch: -1, BaseSequence: 0}, false, true},
		{"negative sequence", ProducerFields{ID: 3, Epoch: 0, BaseSequence: -1}, false, true},
		{"transactional without producer", NoProducer, true, true},
		{"producer id below -1", ProducerFields{ID: -2, Epoch: -1, BaseSequence: -1}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.producer
			b := Build(BuildOptions{Producer: &p, Transactional: tc.transactional}, sampleRecords())
			_, err := Validate(b, ValidateOptions{})
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, ErrInvalidSequence)) {
				t.Fatalf("Validate: %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// rec assembles one record body from raw pieces and prefixes its length.
func rec(parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	return append(appendVarint(nil, int32(len(body))), body...)
}

func vi(v int32) []byte { return appendVarint(nil, v) }

func TestValidateRecordFraming(t *testing.T) {
	attrs, ts := []byte{0}, vi(0)
	okRecord := func(delta int32) []byte { return rec(attrs, ts, vi(delta), vi(1), []byte("k"), vi(-1), vi(0)) }
	for _, tc := range []struct {
		name    string
		section []byte
		count   int32
		want    error
	}{
		{"valid", bytes.Join([][]byte{okRecord(0), okRecord(1)}, nil), 2, nil},
		{"fewer records than counted", okRecord(0), 2, ErrInvalidRecord},
		{"bytes after the last record", append(okRecord(0), 0), 1, ErrInvalidRecord},
		{"offset delta not the index", bytes.Join([][]byte{okRecord(0), okRecord(2)}, nil), 2, ErrInvalidRecord},
		{"length varint too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 1, ErrInvalidRecord},
		{"length varint beyond int32", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 1, ErrInvalidRecord},
		{"length past the end", append(vi(50), 0, 0, 0, 0, 0, 0), 1, ErrInvalidRecord},
		{"length too small", append(vi(2), 0, 0), 1, ErrInvalidRecord},
		{"negative length", append(vi(-1), 0, 0, 0, 0, 0, 0), 1, ErrInvalidRecord},
		{"torn timestamp varint", rec(attrs, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80}), 1, ErrInvalidRecord},
		{"key length -2", rec(attrs, ts, vi(0), vi(-2), vi(-1), vi(0)), 1, ErrInvalidRecord},
		{"key past the record", rec(attrs, ts, vi(0), vi(10), []byte("k"), vi(-1), vi(0)), 1, ErrInvalidRecord},
		{"value past the record", rec(attrs, ts, vi(0), vi(-1), vi(9), []byte("v"), vi(0)), 1, ErrInvalidRecord},
		{"negative header count", rec(attrs, ts, vi(0), vi(-1), vi(-1), vi(-1)), 1, ErrInvalidRecord},
		{"header count beyond the bytes", rec(attrs, ts, vi(0), vi(-1), vi(-1), vi(3), vi(0), vi(-1)), 1, ErrInvalidRecord},
		{"null header key", rec(attrs, ts, vi(0), vi(-1), vi(-1), vi(1), vi(-1), vi(-1)), 1, ErrInvalidRecord},
		{"header value past the record", rec(attrs, ts, vi(0), vi(-1), vi(-1), vi(1), vi(0), vi(4), []byte("ab")), 1, ErrInvalidRecord},
		{"valid header with null value", rec(attrs, ts, vi(0), vi(-1), vi(-1), vi(1), vi(1), []byte("h"), vi(-1)), 1, nil},
		{"bytes left inside the record", rec(attrs, ts, vi(0), vi(-1), vi(-1), vi(0), []byte{0}), 1, ErrInvalidRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(batchFromSection(tc.section, tc.count, CodecNone), ValidateOptions{})
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Validate: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidateRequireKeys(t *testing.T) {
	withNullKey := Build(BuildOptions{}, sampleRecords())
	if _, err := Validate(withNullKey, ValidateOptions{RequireKeys: true}); !errors.Is(err, ErrMissingKey) {
		t.Fatalf("Validate: %v, want ErrMissingKey", err)
	}
	keyed := Build(BuildOptions{}, []Record{{Key: []byte{}}, {Key: []byte("a")}})
	if _, err := Validate(keyed, ValidateOptions{RequireKeys: true}); err != nil {
		t.Fatalf("an empty key is a key: %v", err)
	}
}

func TestValidateUncompressedDoesNotAllocate(t *testing.T) {
	b := benchBatch()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Validate(b, ValidateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Validate allocated %v times per run", allocs)
	}
}

func TestReadVarintBounds(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1<<31 - 1, -1 << 31} {
		b := appendVarlong(nil, v)
		if got, n := readVarint(b); n != len(b) || int64(got) != v {
			t.Errorf("readVarint(%x) = %d, %d; want %d", b, got, n, v)
		}
		if got, n := readVarlong(b); n != len(b) || got != v {
			t.Errorf("readVarlong(%x) = %d, %d; want %d", b, got, n, v)
		}
	}
	for _, v := range []int64{1 << 31, -1<<31 - 1} {
		if _, n := readVarint(appendVarlong(nil, v)); n != 0 {
			t.Errorf("readVarint accepted %d", v)
		}
	}
	for _, v := range []int64{1<<63 - 1, -1 << 63} {
		b := appendVarlong(nil, v)
		if got, n := readVarlong(b); n != len(b) || got != v || sizeVarlong(v) != len(b) {
			t.Errorf("readVarlong(%x) = %d, %d; want %d", b, got, n, v)
		}
	}
	if _, n := readVarlong([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}); n != 0 {
		t.Error("readVarlong accepted a 65-bit value")
	}
}

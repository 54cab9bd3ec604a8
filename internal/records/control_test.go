package records

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestControlBatch(t *testing.T) {
	for _, commit := range []bool{true, false} {
		b := ControlBatch(42, 3, commit, 17, 5000)
		h, err := Validate(b, ValidateOptions{AllowControl: true})
		if err != nil {
			t.Fatal(err)
		}
		if !h.IsControl() || !h.IsTransactional() || h.ProducerID != 42 || h.ProducerEpoch != 3 ||
			h.BaseSequence != -1 || h.BaseTimestamp != 5000 || h.MaxTimestamp != 5000 {
			t.Fatalf("header %+v", h)
		}
		got, err := ParseControlType(b)
		if err != nil || got != commit {
			t.Fatalf("ParseControlType = %v, %v; want %v", got, err, commit)
		}
		recs := collect(t, b)
		if len(recs) != 1 || len(recs[0].Key) != 4 || len(recs[0].Value) != 6 ||
			binary.BigEndian.Uint32(recs[0].Value[2:]) != 17 {
			t.Fatalf("control record %+v", recs)
		}
	}
}

func TestParseControlTypeRejects(t *testing.T) {
	marker := func(key []byte) []byte {
		return Build(BuildOptions{Producer: &ProducerFields{ID: 1, BaseSequence: -1}, Transactional: true, Control: true},
			[]Record{{Key: key, Value: make([]byte, 6)}})
	}
	twoRecords := Build(BuildOptions{Control: true}, []Record{{Key: make([]byte, 4)}, {Key: make([]byte, 4)}})
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"data batch", Build(BuildOptions{}, sampleRecords())},
		{"leader change control type", marker([]byte{0, 0, 0, 2})},
		{"short key", marker([]byte{0, 0})},
		{"negative key version", marker([]byte{0xff, 0xff, 0, 1})},
		{"two records", twoRecords},
	} {
		if _, err := ParseControlType(tc.b); !errors.Is(err, ErrNotMarker) {
			t.Errorf("%s: %v, want ErrNotMarker", tc.name, err)
		}
	}
	if _, err := ParseControlType(nil); !errors.Is(err, ErrShortBatch) {
		t.Errorf("nil: %v", err)
	}
}

package records

import (
	"errors"
	"testing"
)

func TestBuildIterateRoundTrip(t *testing.T) {
	want := sampleRecords()
	if err := sameRecords(collect(t, Build(BuildOptions{}, want)), want); err != nil {
		t.Fatal(err)
	}
}

func TestIterateAcceptsCompactedShapes(t *testing.T) {
	// Offset deltas 0 and 5, as compaction leaves them: Iterate decodes them, Validate
	// refuses them from a producer.
	section := append(rec([]byte{0}, vi(0), vi(0), vi(-1), vi(-1), vi(0)),
		rec([]byte{0}, vi(0), vi(5), vi(-1), vi(-1), vi(0))...)
	b := batchFromSection(section, 2, CodecNone)
	got := collect(t, b)
	if len(got) != 2 || got[0].OffsetDelta != 0 || got[1].OffsetDelta != 5 {
		t.Fatalf("got %+v", got)
	}
	if _, err := Validate(b, ValidateOptions{}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Validate: %v", err)
	}
	if got := collect(t, batchFromSection(nil, 0, CodecNone)); len(got) != 0 {
		t.Fatalf("empty batch yielded %d records", len(got))
	}
}

func TestIterateErrors(t *testing.T) {
	good := Build(BuildOptions{}, sampleRecords())
	stop := errors.New("stop")
	calls := 0
	if err := Iterate(good, func(Record) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("fn's error: %v after %d calls", err, calls)
	}
	nop := func(Record) error { return nil }
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:HeaderSize-1], ErrShortBatch},
		{"torn", good[:len(good)-1], ErrShortBatch},
		{"bad crc", bad, ErrBadCRC},
		{"negative count", batchFromSection(nil, -1, CodecNone), ErrInvalidRecord},
		{"unknown codec", batchFromSection(nil, 1, 6), ErrBadCompression},
		{"extra bytes", batchFromSection(append(rec([]byte{0}, vi(0), vi(0), vi(-1), vi(-1), vi(0)), 1), 1, CodecNone), ErrInvalidRecord},
	} {
		if err := Iterate(tc.b, nop); !errors.Is(err, tc.want) {
			t.Errorf("%s: Iterate: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestIterateIgnoresBytesAfterTheBatch(t *testing.T) {
	b := Build(BuildOptions{}, sampleRecords())
	two := append(append([]byte(nil), b...), b...)
	if got := collect(t, two); len(got) != 4 {
		t.Fatalf("got %d records", len(got))
	}
}

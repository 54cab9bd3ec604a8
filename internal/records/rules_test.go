package records

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestTimestampBoundsSaturate(t *testing.T) {
	const now = 1_700_000_000_000
	cases := []struct {
		before, after int64
		lo, hi        int64
	}{
		{math.MaxInt64, math.MaxInt64, now - math.MaxInt64, math.MaxInt64},
		{1000, 2000, now - 1000, now + 2000},
		{0, 0, now, now},
	}
	for _, c := range cases {
		lo, hi := TimestampBounds(now, c.before, c.after)
		if lo != c.lo || hi != c.hi {
			t.Errorf("bounds(%d, %d) = [%d, %d], want [%d, %d]", c.before, c.after, lo, hi, c.lo, c.hi)
		}
	}
	if lo, _ := TimestampBounds(math.MinInt64+5, 10, 0); lo != math.MinInt64 {
		t.Errorf("lower bound %d did not saturate", lo)
	}
}

// timestampBatch has records at base+0, base-50 (a negative delta), base+100.
func timestampBatch(base int64, codec Codec) []byte {
	raw := Build(BuildOptions{BaseTimestamp: base}, []Record{
		{TimestampDelta: 0, Key: []byte("a"), Value: []byte("1")},
		{TimestampDelta: -50, Key: []byte("b"), Value: []byte("2")},
		{TimestampDelta: 100, Value: []byte("no key")},
	})
	if codec == CodecNone {
		return raw
	}
	h, _ := ParseHeader(raw)
	out, err := Recompress(raw, h, codec, 0, RecordRules{})
	if err != nil {
		panic(err)
	}
	return out
}

func mustHeader(t *testing.T, b []byte) Header {
	t.Helper()
	h, err := Validate(b, ValidateOptions{AllowZstd: true})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCheckRecordsNamesEveryRejectedRecord(t *testing.T) {
	b := timestampBatch(1000, CodecNone)
	h := mustHeader(t, b)
	rules := RecordRules{CheckTimestamps: true, MinTimestamp: 990, MaxTimestamp: 1050, Topic: "t", Partition: 0}
	err := CheckRecords(b, h, rules)
	var rejected *RejectedRecordsError
	if !errors.As(err, &rejected) {
		t.Fatalf("CheckRecords: %v, want *RejectedRecordsError", err)
	}
	if !errors.Is(err, ErrInvalidTimestamp) || KafkaCode(err) != kerr.InvalidTimestamp.Code {
		t.Fatalf("error %v maps to %d, want INVALID_TIMESTAMP", err, KafkaCode(err))
	}
	if len(rejected.Records) != 2 || rejected.Records[0].Index != 1 || rejected.Records[1].Index != 2 {
		t.Fatalf("record errors %+v, want records 1 and 2", rejected.Records)
	}
	want := "Timestamp 950 of message with offset 1 is out of range. The timestamp should be within [990, 1050]"
	if rejected.Records[0].Message != want {
		t.Fatalf("message %q, want %q", rejected.Records[0].Message, want)
	}

	// Keys come first: record 2 is reported for its missing key, and since a timestamp
	// error remains the batch is still INVALID_TIMESTAMP.
	rules.RequireKeys = true
	err = CheckRecords(b, h, rules)
	if !errors.As(err, &rejected) || len(rejected.Records) != 2 ||
		!strings.Contains(rejected.Records[1].Message, "without key in topic partition t-0.") {
		t.Fatalf("CheckRecords with keys: %v", err)
	}
	if KafkaCode(err) != kerr.InvalidTimestamp.Code {
		t.Fatalf("code %d, want INVALID_TIMESTAMP", KafkaCode(err))
	}
}

func TestMissingKeysAreInvalidRecord(t *testing.T) {
	b := timestampBatch(1000, CodecLZ4)
	err := CheckRecords(b, mustHeader(t, b), RecordRules{RequireKeys: true, Topic: "c", Partition: 3})
	if KafkaCode(err) != kerr.InvalidRecord.Code || !errors.Is(err, ErrMissingKey) {
		t.Fatalf("CheckRecords: %v (code %d), want INVALID_RECORD", err, KafkaCode(err))
	}
	want := "One or more records have been rejected due to 1 record errors in total, and only showing " +
		"the first three errors at most: [RecordError(batchIndex=2, message='Compacted topic cannot " +
		"accept message without key in topic partition c-3.')]"
	if err.Error() != want {
		t.Fatalf("message\n%s\nwant\n%s", err, want)
	}
}

func TestCheckRecordsAcceptsGoodBatchesWithoutAllocating(t *testing.T) {
	b := timestampBatch(1000, CodecNone)
	h := mustHeader(t, b)
	rules := RecordRules{CheckTimestamps: true, MinTimestamp: 900, MaxTimestamp: 1100}
	allocs := testing.AllocsPerRun(100, func() {
		if err := CheckTimestamps(b, h, rules); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per check of an uncompressed batch", allocs)
	}
	// NoTimestamp never fails.
	none := Build(BuildOptions{BaseTimestamp: NoTimestamp}, []Record{{Value: []byte("x")}})
	if err := CheckRecords(none, mustHeader(t, none), rules); err != nil {
		t.Fatalf("record without timestamp: %v", err)
	}
}

func TestCheckTimestampsTrustsCompressedHeaders(t *testing.T) {
	for _, codec := range []Codec{CodecGzip, CodecZstd} {
		b := timestampBatch(1000, codec)
		h := mustHeader(t, b)
		// Base and max (1000, 1100) are in range; record 1 (950) is not, and a
		// compressed batch is judged by its header.
		if err := CheckTimestamps(b, h, RecordRules{CheckTimestamps: true, MinTimestamp: 990, MaxTimestamp: 1100}); err != nil {
			t.Fatalf("codec %d: %v", codec, err)
		}
		// The max is out of range: the records are walked to name the culprit.
		err := CheckTimestamps(b, h, RecordRules{CheckTimestamps: true, MinTimestamp: 0, MaxTimestamp: 1099})
		var rejected *RejectedRecordsError
		if !errors.As(err, &rejected) || len(rejected.Records) != 1 || rejected.Records[0].Index != 2 {
			t.Fatalf("codec %d: %v, want record 2 rejected", codec, err)
		}
	}
}

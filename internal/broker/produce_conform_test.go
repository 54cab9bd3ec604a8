package broker

import (
	"testing"
	"time"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/records"
)

func defaultTopicConfig(t *testing.T, overrides map[string]string) config.Topic {
	t.Helper()
	bc, err := config.ParseBroker(nil)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := config.ParseTopic(overrides, bc)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// An accepted uncompressed batch on a default topic (CreateTime, an hour's
// after.max.ms, compression.type=producer) costs no allocation beyond the clock.
func TestConformAcceptsWithoutAllocating(t *testing.T) {
	tc := defaultTopicConfig(t, nil)
	now := time.Now()
	batch := records.Build(records.BuildOptions{BaseTimestamp: now.UnixMilli()},
		[]records.Record{{Key: []byte("k"), Value: []byte("v")}, {TimestampDelta: 5, Value: []byte("w")}})
	h, err := records.Validate(batch, records.ValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		rules := recordRules("t", 0, tc, now)
		if _, _, err := conformBatch(batch, h, tc, rules); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per accepted batch", allocs)
	}
}

func TestDeprecatedDifferenceBoundsBothSidesWhenTighter(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	cases := []struct {
		overrides map[string]string
		lo, hi    int64
	}{
		{map[string]string{"message.timestamp.difference.max.ms": "1000"}, -1000, 1000},
		{map[string]string{"message.timestamp.difference.max.ms": "7200000"}, -7200000, 3600000},
		{map[string]string{"message.timestamp.before.max.ms": "10", "message.timestamp.after.max.ms": "20",
			"message.timestamp.difference.max.ms": "15"}, -10, 15},
	}
	for _, c := range cases {
		r := recordRules("t", 0, defaultTopicConfig(t, c.overrides), now)
		if lo, hi := r.MinTimestamp-now.UnixMilli(), r.MaxTimestamp-now.UnixMilli(); lo != c.lo || hi != c.hi {
			t.Errorf("%v: bounds now%+d..now%+d, want now%+d..now%+d", c.overrides, lo, hi, c.lo, c.hi)
		}
	}
	if r := recordRules("t", 0, defaultTopicConfig(t, map[string]string{"message.timestamp.type": "LogAppendTime"}), now); r.CheckTimestamps {
		t.Error("LogAppendTime topic checks producer timestamps")
	}
}

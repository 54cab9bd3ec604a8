package log

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/waybill/waybill/internal/records"
)

// kv is a record to append; a nil value is a tombstone, a nil key has no key.
type kv struct{ key, value []byte }

func put(key, value string) kv { return kv{[]byte(key), []byte(value)} }
func del(key string) kv        { return kv{key: []byte(key)} }

// keyedBatch builds a batch of kvs, every record with timestamp ts.
func keyedBatch(ts int64, kvs ...kv) []byte {
	recs := make([]records.Record, len(kvs))
	for i, r := range kvs {
		recs[i] = records.Record{Key: r.key, Value: r.value}
	}
	return records.Build(records.BuildOptions{BaseTimestamp: ts}, recs)
}

// compactConfig is a compact-only config with tiny segments, so a few hundred records
// make many of them.
func compactConfig(t testing.TB) Config {
	cfg := testConfig(t)
	cfg.CleanupPolicyCompact, cfg.CleanupPolicyDelete = true, false
	cfg.SegmentBytes = 1 << 10
	cfg.IndexIntervalBytes = 100
	return cfg
}

// rec is a record as read back.
type rec struct {
	offset     int64
	key, value []byte
	ts         int64
}

// appendKeyed appends one batch and returns its records with their offsets.
func appendKeyed(t testing.TB, l *Log, ts int64, kvs ...kv) []rec {
	t.Helper()
	res, err := l.Append(keyedBatch(ts, kvs...), 1)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	out := make([]rec, len(kvs))
	for i, r := range kvs {
		out[i] = rec{offset: res.BaseOffset + int64(i), key: r.key, value: r.value, ts: ts}
	}
	return out
}

// readRecords scans the whole log, checking that offsets increase, and returns its
// records.
func readRecords(t testing.TB, l *Log) []rec {
	t.Helper()
	var out []rec
	last := int64(-1)
	err := l.Scan(l.StartOffset(), func(h records.Header, batch []byte) error {
		if h.BaseOffset <= last {
			return fmt.Errorf("batch %d after offset %d", h.BaseOffset, last)
		}
		last = h.LastOffset()
		return records.Iterate(batch, func(r records.Record) error {
			off := h.BaseOffset + int64(r.OffsetDelta)
			if off > h.LastOffset() || (len(out) > 0 && off <= out[len(out)-1].offset) {
				return fmt.Errorf("record offset %d out of place in batch %d-%d", off, h.BaseOffset, h.LastOffset())
			}
			out = append(out, rec{offset: off, key: clone(r.Key), value: clone(r.Value), ts: h.BaseTimestamp + r.TimestampDelta})
			return nil
		})
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return out
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// lastPerKey maps each key to its last record in rs.
func lastPerKey(rs []rec) map[string]rec {
	m := map[string]rec{}
	for _, r := range rs {
		if r.key != nil {
			m[string(r.key)] = r
		}
	}
	return m
}

// checkLatestValues asserts that the log holds, for every key of the appended records
// model, the latest record at its original offset, or nothing at all if that record is
// a tombstone; and that every record it holds is one that was appended there.
func checkLatestValues(t testing.TB, l *Log, model []rec) {
	t.Helper()
	byOffset := map[int64]rec{}
	for _, r := range model {
		byOffset[r.offset] = r
	}
	got := readRecords(t, l)
	for _, r := range got {
		want, ok := byOffset[r.offset]
		if !ok || !sameBytes(want.key, r.key) || !sameBytes(want.value, r.value) {
			t.Fatalf("offset %d holds %q=%q, appended %q=%q (%v)", r.offset, r.key, r.value, want.key, want.value, ok)
		}
	}
	present := map[int64]bool{}
	for _, r := range got {
		present[r.offset] = true
	}
	for _, r := range model {
		if r.key == nil && r.offset >= l.StartOffset() && !present[r.offset] {
			t.Fatalf("record without a key at %d dropped", r.offset)
		}
	}
	have := lastPerKey(got)
	for k, want := range lastPerKey(model) {
		g, ok := have[k]
		switch {
		case want.value == nil && (!ok || g.value == nil && g.offset == want.offset):
		case !ok || g.offset != want.offset:
			t.Fatalf("key %q: latest is offset %d, log has %+v (%v)", k, want.offset, g, ok)
		}
	}
}

func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// mustCompact runs Compact and fails the test on error.
func mustCompact(t testing.TB, l *Log, opts CompactOptions) CompactResult {
	t.Helper()
	res, err := l.Compact(opts)
	if err != nil {
		t.Fatalf("compact: %v", err)
	}
	return res
}

func mustSync(t testing.TB, l *Log) {
	t.Helper()
	if _, err := l.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

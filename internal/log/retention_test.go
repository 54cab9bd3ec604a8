package log

import (
	"errors"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/vfs"
)

func segmentCount(l *Log) int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

func TestRetentionBySize(t *testing.T) {
	cfg := testConfig(t)
	cfg.RetentionMs = -1
	cfg.RetentionBytes = 40 << 10
	l := mustOpen(t, vfs.NewMem(), cfg, nil)
	defer l.Close()
	appendN(t, l, 300, 5, 100, 1000)
	before := l.Size()
	n, err := l.ApplyRetention()
	if err != nil || n == 0 {
		t.Fatalf("deleted %d: %v", n, err)
	}
	if l.Size() < cfg.RetentionBytes || l.Size() >= before {
		t.Fatalf("size %d after retention (limit %d, before %d)", l.Size(), cfg.RetentionBytes, before)
	}
	// Deleting one more segment would go below the limit.
	l.mu.RLock()
	first := l.segs[0].size
	l.mu.RUnlock()
	if l.Size()-first >= cfg.RetentionBytes {
		t.Fatalf("kept more than needed: %d - %d >= %d", l.Size(), first, cfg.RetentionBytes)
	}
	if _, err := l.Read(0, 100, 1<<40); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	readHeaders(t, l, l.StartOffset(), 1<<30, 1<<40)
}

func TestRetentionByTimeNeverDeletesActive(t *testing.T) {
	clk := newClock()
	cfg := testConfig(t)
	cfg.RetentionMs = int64(time.Hour / time.Millisecond)
	cfg.SegmentMs = int64(24 * time.Hour / time.Millisecond)
	l := mustOpen(t, vfs.NewMem(), cfg, clk.now)
	defer l.Close()
	appendN(t, l, 100, 5, 100, clk.ms()) // old data
	clk.advance(30 * time.Minute)
	appendN(t, l, 100, 5, 100, clk.ms()) // newer data
	segs := segmentCount(l)

	clk.advance(45 * time.Minute) // the first half is 75 min old, the second 45
	n, err := l.ApplyRetention()
	if err != nil || n == 0 || segmentCount(l) != segs-n {
		t.Fatalf("deleted %d of %d: %v", n, segs, err)
	}
	if start := l.StartOffset(); start > 500 || start < 400 {
		t.Fatalf("start %d: should be near the first new batch (500)", start)
	}
	clk.advance(2 * time.Hour)
	if _, err := l.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	if segmentCount(l) != 1 || l.EndOffset() != 1000 || l.Size() == 0 {
		t.Fatalf("all expired: %d segments, end %d, size %d", segmentCount(l), l.EndOffset(), l.Size())
	}

	// segment.ms rolls the active segment, and then it can go too.
	clk.advance(25 * time.Hour)
	if _, err := l.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	if l.Size() != 0 || l.StartOffset() != 1000 || l.EndOffset() != 1000 {
		t.Fatalf("after segment.ms: size %d start %d end %d", l.Size(), l.StartOffset(), l.EndOffset())
	}
}

func TestSegmentMsRollsOnAppend(t *testing.T) {
	clk := newClock()
	cfg := testConfig(t)
	cfg.SegmentBytes = 1 << 20
	cfg.SegmentMs = 1000
	l := mustOpen(t, vfs.NewMem(), cfg, clk.now)
	defer l.Close()
	appendN(t, l, 3, 1, 10, 5) // ancient timestamps must not roll every batch
	if segmentCount(l) != 1 {
		t.Fatalf("%d segments", segmentCount(l))
	}
	clk.advance(2 * time.Second)
	appendN(t, l, 1, 1, 10, 5)
	if segmentCount(l) != 2 {
		t.Fatalf("no roll after segment.ms: %d segments", segmentCount(l))
	}
	appendN(t, l, 1, 1, 10, 5+1001) // batch timestamps a segment.ms apart roll too
	if segmentCount(l) != 3 {
		t.Fatalf("no roll on timestamps: %d segments", segmentCount(l))
	}
}

func TestDeleteBeforeSurvivesReopen(t *testing.T) {
	for _, crash := range []bool{false, true} {
		fs := vfs.NewMem()
		l := mustOpen(t, fs, testConfig(t), nil)
		appendN(t, l, 100, 5, 100, 1000)
		if _, err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		segs := segmentCount(l)
		if err := l.DeleteBefore(252); err != nil {
			t.Fatal(err)
		}
		if l.StartOffset() != 252 || segmentCount(l) >= segs {
			t.Fatalf("start %d, %d of %d segments", l.StartOffset(), segmentCount(l), segs)
		}
		if err := l.DeleteBefore(600); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("delete past end: %v", err)
		}
		if crash {
			fs = fs.CrashClone()
		} else if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l2 := mustOpen(t, fs, testConfig(t), nil)
		if l2.StartOffset() != 252 || l2.EndOffset() != 500 {
			t.Fatalf("crash=%v: start %d end %d", crash, l2.StartOffset(), l2.EndOffset())
		}
		if _, err := l2.Read(251, 100, 1<<40); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("read below start: %v", err)
		}
		if hs, _ := readHeaders(t, l2, 252, 1, 1<<40); hs[0].BaseOffset != 250 {
			t.Fatalf("read at start got batch %d", hs[0].BaseOffset)
		}
		// Everything can go; the log stays usable.
		if err := l2.DeleteBefore(500); err != nil || l2.Size() != 0 || l2.StartOffset() != 500 {
			t.Fatalf("delete all: %v size %d", err, l2.Size())
		}
		if res, err := l2.Append(makeBatch(1, 1, 1), 0); err != nil || res.BaseOffset != 500 {
			t.Fatalf("append: %+v %v", res, err)
		}
		l2.Close()
	}
}

func TestTruncate(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, testConfig(t), nil)
	appendN(t, l, 100, 5, 100, 1000)
	segs := segmentCount(l)
	if err := l.Truncate(302); err != nil { // inside batch 300-304: it goes
		t.Fatal(err)
	}
	if l.EndOffset() != 300 || l.DurableEnd() != 300 || segmentCount(l) >= segs {
		t.Fatalf("end %d durable %d segments %d/%d", l.EndOffset(), l.DurableEnd(), segmentCount(l), segs)
	}
	hs, _ := readHeaders(t, l, 0, 1<<30, 1<<40)
	if len(hs) != 60 {
		t.Fatalf("%d batches", len(hs))
	}
	if res, err := l.Append(makeBatch(5, 100, 1000), 2); err != nil || res.BaseOffset != 300 {
		t.Fatalf("append after truncate: %+v %v", res, err)
	}
	appendN(t, l, 50, 5, 100, 1000)
	// A crash right away recovers the truncated log (Truncate is durable) plus nothing
	// unsynced.
	l2 := mustOpen(t, fs.CrashClone(), testConfig(t), nil)
	if l2.EndOffset() != 300 {
		t.Fatalf("end after crash %d", l2.EndOffset())
	}
	if err := l2.Truncate(-1 + 1); err != nil || l2.EndOffset() != 0 || l2.Size() != 0 {
		t.Fatalf("truncate to 0: %v end %d size %d", err, l2.EndOffset(), l2.Size())
	}
	appendN(t, l2, 3, 1, 1, 1)
	if err := l2.DeleteBefore(2); err != nil {
		t.Fatal(err)
	}
	if err := l2.Truncate(1); err != nil || l2.StartOffset() != 1 || l2.EndOffset() != 1 {
		t.Fatalf("truncate below start: %v start %d end %d", err, l2.StartOffset(), l2.EndOffset())
	}
	l2.Close()
}

func TestTruncateKeepsTimestampsAndIndexes(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), testConfig(t), nil)
	defer l.Close()
	for i := 0; i < 100; i++ {
		ts := int64(1000 + i)
		if i == 90 {
			ts = 5000
		}
		if _, err := l.Append(makeBatch(1, 200, ts), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Truncate(80); err != nil {
		t.Fatal(err)
	}
	b, ok, err := l.MaxTimestampBatch()
	if h, _ := parseHeader(b); err != nil || !ok || h.MaxTimestamp != 1079 {
		t.Fatalf("max timestamp after truncate: %d %v %v", h.MaxTimestamp, ok, err)
	}
	appendN(t, l, 40, 1, 200, 2000)
	for off := int64(0); off < 120; off++ {
		if hs, _ := readHeaders(t, l, off, 1, 1<<40); hs[0].BaseOffset != off {
			t.Fatalf("offset %d read %d", off, hs[0].BaseOffset)
		}
	}
}

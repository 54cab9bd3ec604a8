package log

import (
	"errors"
	"testing"
)

func TestAppendReadAcrossRolls(t *testing.T) {
	fs := newMemFS()
	l := mustOpen(t, fs, testConfig(t), nil)
	defer l.Close()
	bases := appendN(t, l, 300, 5, 100, 1000) // ~700 B batches, 16 KiB segments
	for i, b := range bases {
		if b != int64(i*5) {
			t.Fatalf("batch %d base %d", i, b)
		}
	}
	if got := l.EndOffset(); got != 1500 {
		t.Fatalf("end %d", got)
	}
	l.mu.RLock()
	nsegs := len(l.segs)
	l.mu.RUnlock()
	if nsegs < 10 {
		t.Fatalf("only %d segments", nsegs)
	}
	// Every offset, in the middle of batches too, reads from its batch.
	for off := int64(0); off < 1500; off += 7 {
		hs, _ := readHeaders(t, l, off, 1, 1500)
		if len(hs) != 1 || hs[0].BaseOffset > off || hs[0].LastOffset() < off {
			t.Fatalf("offset %d: got %+v", off, hs)
		}
		if hs[0].PartitionLeaderEpoch != 7 {
			t.Fatalf("epoch %d", hs[0].PartitionLeaderEpoch)
		}
	}
	// A big read crosses segments and returns everything.
	hs, _ := readHeaders(t, l, 0, 1<<30, 1500)
	if len(hs) != 300 || hs[299].LastOffset() != 1499 {
		t.Fatalf("full read: %d batches", len(hs))
	}
	if c, err := l.Read(1500, 100, 1500); err != nil || c.Size != 0 {
		t.Fatalf("read at end: %v %v", c, err)
	}
	if _, err := l.Read(1501, 100, 2000); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past end: %v", err)
	}
}

func TestReadMaxBytesAndKIP74(t *testing.T) {
	l := mustOpen(t, newMemFS(), testConfig(t), nil)
	defer l.Close()
	appendN(t, l, 20, 5, 100, 1000)
	one := len(makeBatch(5, 100, 1000))

	hs, size := readHeaders(t, l, 0, 3*one+one/2, 1<<40)
	if len(hs) != 3 || size != 3*one {
		t.Fatalf("3.5 batches of budget: got %d batches, %d bytes", len(hs), size)
	}
	hs, _ = readHeaders(t, l, 12, 10, 1<<40) // KIP-74: one batch even past maxBytes
	if len(hs) != 1 || hs[0].BaseOffset != 10 {
		t.Fatalf("KIP-74: %+v", hs)
	}
	hs, _ = readHeaders(t, l, 0, 0, 1<<40)
	if len(hs) != 1 {
		t.Fatalf("maxBytes 0: %d batches", len(hs))
	}
}

func TestReadLimit(t *testing.T) {
	l := mustOpen(t, newMemFS(), testConfig(t), nil)
	defer l.Close()
	appendN(t, l, 100, 5, 100, 1000)
	hs, _ := readHeaders(t, l, 0, 1<<30, 250)
	if len(hs) != 50 || hs[49].LastOffset() != 249 {
		t.Fatalf("limit 250: %d batches, last %d", len(hs), hs[len(hs)-1].LastOffset())
	}
	// A limit inside a batch keeps that batch (its base is below the limit).
	hs, _ = readHeaders(t, l, 0, 1<<30, 252)
	if hs[len(hs)-1].BaseOffset != 250 {
		t.Fatalf("limit 252: last base %d", hs[len(hs)-1].BaseOffset)
	}
	if hs, _ = readHeaders(t, l, 250, 1<<30, 250); len(hs) != 0 {
		t.Fatalf("read at limit returned %d batches", len(hs))
	}
}

func TestIndexLookupsUseIndex(t *testing.T) {
	cfg := testConfig(t)
	cfg.SegmentBytes = 1 << 20
	l := mustOpen(t, newMemFS(), cfg, nil)
	defer l.Close()
	appendN(t, l, 1000, 1, 100, 1000) // ~170 B batches, an index entry every 4
	l.mu.RLock()
	v := l.activeLocked().viewLocked()
	l.mu.RUnlock()
	if v.idx.n < 200 {
		t.Fatalf("only %d index entries", v.idx.n)
	}
	// floorOffset never points past the wanted batch and lands close to it.
	for off := int64(0); off < 1000; off += 13 {
		rel, pos, err := floorOffset(v.idx, v.seg.relative(off))
		if err != nil || int64(rel) > off {
			t.Fatalf("floor %d: %d %v", off, rel, err)
		}
		if off-int64(rel) > int64(cfg.IndexIntervalBytes)/100+1 {
			t.Fatalf("floor %d is %d: too far", off, rel)
		}
		r := newBatchReader(v.seg.log, v.size, lookupWindow)
		h, err := r.header(pos)
		if err != nil || h.BaseOffset != int64(rel) {
			t.Fatalf("entry %d -> %d points at batch %d (%v)", rel, pos, h.BaseOffset, err)
		}
	}
}

func TestAppendAssigned(t *testing.T) {
	src := mustOpen(t, newMemFS(), testConfig(t), nil)
	defer src.Close()
	appendN(t, src, 50, 3, 100, 1000)
	c, err := src.Read(0, 1<<30, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := c.ReadInto(nil)
	c.Release()

	dst := mustOpen(t, newMemFS(), testConfig(t), nil)
	defer dst.Close()
	one := len(makeBatch(3, 100, 1000))
	backwards := append(append([]byte(nil), all[one:2*one]...), all[:one]...)
	if err := dst.AppendAssigned(backwards); !errors.Is(err, ErrNotContiguous) {
		t.Fatalf("offsets going backwards accepted: %v", err)
	}
	if err := dst.AppendAssigned(all); err != nil {
		t.Fatal(err)
	}
	if err := dst.AppendAssigned(all[len(all)-one:]); !errors.Is(err, ErrNotContiguous) {
		t.Fatalf("batch below the end accepted: %v", err)
	}
	if dst.EndOffset() != 150 {
		t.Fatalf("end %d", dst.EndOffset())
	}
	hs, _ := readHeaders(t, dst, 0, 1<<30, 1<<40)
	if len(hs) != 50 {
		t.Fatalf("%d batches", len(hs))
	}
	bad := append([]byte(nil), all[:one]...)
	bad[100] ^= 1
	if err := dst.AppendAssigned(bad); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("bad CRC accepted: %v", err)
	}
}

func TestTimestamps(t *testing.T) {
	l := mustOpen(t, newMemFS(), testConfig(t), nil)
	defer l.Close()
	for i := 0; i < 200; i++ {
		ts := int64(1000 + i*10)
		if i == 120 {
			ts = 99999 // the maximum, in a middle segment
		}
		if _, err := l.Append(makeBatch(2, 100, ts), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		ts   int64
		base int64
	}{{0, 0}, {1000, 0}, {1001, 2}, {1500, 100}, {2190, 238}, {50000, 240}, {99999, 240}} {
		b, ok, err := l.OffsetForTimestamp(tc.ts)
		if err != nil || !ok {
			t.Fatalf("ts %d: %v %v", tc.ts, ok, err)
		}
		h, _ := parseHeader(b)
		if h.BaseOffset != tc.base {
			t.Fatalf("ts %d: batch %d, want %d", tc.ts, h.BaseOffset, tc.base)
		}
	}
	if _, ok, _ := l.OffsetForTimestamp(100000); ok {
		t.Fatal("found a batch past every timestamp")
	}
	b, ok, err := l.MaxTimestampBatch()
	if h, _ := parseHeader(b); err != nil || !ok || h.BaseOffset != 240 || h.MaxTimestamp != 99999 {
		t.Fatalf("max timestamp: %+v %v %v", h, ok, err)
	}
}

func TestScan(t *testing.T) {
	l := mustOpen(t, newMemFS(), testConfig(t), nil)
	defer l.Close()
	appendN(t, l, 100, 4, 100, 1000)
	next := int64(8)
	err := l.Scan(9, func(h recordsHeader, batch []byte) error {
		if h.BaseOffset != next || len(batch) != h.Size() {
			t.Fatalf("scan: batch %d, want %d", h.BaseOffset, next)
		}
		next = h.LastOffset() + 1
		return nil
	})
	if err != nil || next != 400 {
		t.Fatalf("scan ended at %d: %v", next, err)
	}
}

func TestInvalidAppend(t *testing.T) {
	l := mustOpen(t, newMemFS(), testConfig(t), nil)
	defer l.Close()
	b := makeBatch(1, 10, 0)
	if _, err := l.Append(b[:len(b)-1], 0); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("short batch: %v", err)
	}
	if _, err := l.Append(append(b, b...), 0); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("two batches: %v", err)
	}
}

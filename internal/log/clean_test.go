package log

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// fillKeys appends rounds of batches updating keys k0..k(keys-1) and returns the
// records.
func fillKeys(t testing.TB, l *Log, rounds, keys int, ts int64) []rec {
	t.Helper()
	var out []rec
	for r := 0; r < rounds; r++ {
		for k := 0; k < keys; k += 2 {
			out = append(out, appendKeyed(t, l, ts,
				put(fmt.Sprintf("k%d", k), fmt.Sprintf("round %d value %d", r, k)),
				put(fmt.Sprintf("k%d", k+1), fmt.Sprintf("round %d value %d", r, k+1)))...)
		}
	}
	return out
}

func TestCompactKeepsLatestValuePerKeyAtOriginalOffsets(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), compactConfig(t), nil)
	defer l.Close()
	model := fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	segsBefore, sizeBefore, end := len(l.segs), l.Size(), l.EndOffset()

	res := mustCompact(t, l, CompactOptions{})
	if !res.Compacted || res.RecordsRemoved == 0 || res.CleanedTo != l.activeLocked().base {
		t.Fatalf("result %+v", res)
	}
	if l.EndOffset() != end || l.Size() >= sizeBefore/4 || len(l.segs) > segsBefore {
		t.Fatalf("end %d (was %d), size %d (was %d), %d segments (was %d)",
			l.EndOffset(), end, l.Size(), sizeBefore, len(l.segs), segsBefore)
	}
	checkLatestValues(t, l, model)
	// Below the cleaned point every key appears once.
	seen := map[string]bool{}
	for _, r := range readRecords(t, l) {
		if r.offset < res.CleanedTo {
			if seen[string(r.key)] {
				t.Fatalf("key %s twice below the cleaned point", r.key)
			}
			seen[string(r.key)] = true
		}
	}
	// Appends continue at the same end offset.
	if got := appendKeyed(t, l, 1000, put("k0", "after")); got[0].offset != end {
		t.Fatalf("append after compaction at %d, want %d", got[0].offset, end)
	}

	// A second pass right away finds nothing dirty enough.
	if res := mustCompact(t, l, CompactOptions{}); res.Compacted {
		t.Fatalf("second pass compacted: %+v", res)
	}

	// Once enough is dirty again, the next pass also merges the small compacted
	// segments, so the log stays bounded however long it runs.
	var segsAfterFirst int
	var sizeAfterFirst int64
	for i := 0; i < 6; i++ {
		model = append(model, fillKeys(t, l, 30, 10, 1000)...)
		mustSync(t, l)
		mustCompact(t, l, CompactOptions{})
		if i == 0 {
			segsAfterFirst, sizeAfterFirst = len(l.segs), l.Size()
		}
	}
	if len(l.segs) > segsAfterFirst+2 || l.Size() > sizeAfterFirst*3/2 || l.segs[0].next < 1000 {
		t.Fatalf("%d segments, %d bytes, first segment ends at %d after repeated passes; %d, %d after the first",
			len(l.segs), l.Size(), l.segs[0].next, segsAfterFirst, sizeAfterFirst)
	}
	checkLatestValues(t, l, model)
}

func TestCompactOnlyWithCompactPolicyAndCleanableSegments(t *testing.T) {
	cfg := compactConfig(t)
	cfg.CleanupPolicyCompact = false
	cfg.CleanupPolicyDelete = true
	l := mustOpen(t, vfs.NewMem(), cfg, nil)
	defer l.Close()
	fillKeys(t, l, 20, 10, 1000)
	mustSync(t, l)
	if res := mustCompact(t, l, CompactOptions{}); res.Compacted {
		t.Fatal("compacted a delete-only log")
	}

	cfg.CleanupPolicyCompact = true
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if res := mustCompact(t, l, CompactOptions{UncleanableFrom: l.segs[0].next - 1}); res.Compacted {
		t.Fatal("compacted above UncleanableFrom")
	}
	cfg.MinCleanableDirtyRatio = 1
	l.SetConfig(cfg)
	if res := mustCompact(t, l, CompactOptions{}); res.Compacted || res.DirtyRatio != 1 {
		t.Fatalf("compacted below the dirty ratio: %+v", res)
	}
}

func TestCompactRespectsMinCompactionLag(t *testing.T) {
	clk := newClock()
	cfg := compactConfig(t)
	cfg.MinCompactionLagMs = 60_000
	l := mustOpen(t, vfs.NewMem(), cfg, clk.now)
	defer l.Close()
	fillKeys(t, l, 20, 10, clk.ms())
	mustSync(t, l)
	if res := mustCompact(t, l, CompactOptions{}); res.Compacted {
		t.Fatal("compacted segments younger than min.compaction.lag.ms")
	}
	clk.advance(time.Minute)
	if res := mustCompact(t, l, CompactOptions{}); !res.Compacted {
		t.Fatalf("did not compact once old enough: %+v", res)
	}
}

func TestTombstonesGoAfterDeleteRetention(t *testing.T) {
	clk := newClock()
	cfg := compactConfig(t)
	l := mustOpen(t, vfs.NewMem(), cfg, clk.now)
	defer l.Close()
	model := appendKeyed(t, l, clk.ms(), put("gone", "v1"), put("stays", "v1"))
	model = append(model, appendKeyed(t, l, clk.ms(), del("gone"))...)
	model = append(model, fillKeys(t, l, 20, 10, clk.ms())...)
	mustSync(t, l)
	tombstone := model[2].offset

	hasTombstone := func() bool {
		for _, r := range readRecords(t, l) {
			if r.offset == tombstone {
				return true
			}
		}
		return false
	}
	// First pass: the tombstone removes "gone"'s value but stays itself, being dirty.
	mustCompact(t, l, CompactOptions{})
	checkLatestValues(t, l, model)
	if !hasTombstone() {
		t.Fatal("tombstone dropped in the pass that compacted it first")
	}

	more := func() {
		model = append(model, fillKeys(t, l, 20, 10, clk.ms())...)
		mustSync(t, l)
	}
	// Past the cleaned point but younger than delete.retention.ms: it stays.
	clk.advance(time.Duration(cfg.DeleteRetentionMs-1000) * time.Millisecond)
	more()
	if res := mustCompact(t, l, CompactOptions{}); !res.Compacted {
		t.Fatalf("second pass: %+v", res)
	}
	if !hasTombstone() {
		t.Fatal("tombstone dropped before delete.retention.ms")
	}
	checkLatestValues(t, l, model)

	clk.advance(2 * time.Second)
	more()
	mustCompact(t, l, CompactOptions{})
	if hasTombstone() {
		t.Fatal("tombstone kept after delete.retention.ms")
	}
	checkLatestValues(t, l, model)
	if _, ok := lastPerKey(readRecords(t, l))["stays"]; !ok {
		t.Fatal("lost a key")
	}
}

func TestReadsAcrossGaps(t *testing.T) {
	clk := newClock()
	l := mustOpen(t, vfs.NewMem(), compactConfig(t), clk.now)
	defer l.Close()
	var model []rec
	base := clk.ms() - 1000 // in the past: segments with future timestamps are too young
	for i := 0; i < 200; i++ {
		// Key "hot" is rewritten by every batch; each batch also has a unique key, so
		// compaction leaves gaps both inside batches and between them.
		model = append(model, appendKeyed(t, l, base+int64(i), put("hot", fmt.Sprint(i)),
			put(fmt.Sprintf("u%d", i), "x"), put("hot", fmt.Sprint(i)))...)
		if i%3 == 0 {
			model = append(model, appendKeyed(t, l, base+int64(i), put("hot", "h"))...)
		}
	}
	mustSync(t, l)
	mustCompact(t, l, CompactOptions{})
	checkLatestValues(t, l, model)

	start, end := l.StartOffset(), l.EndOffset()
	hs, _ := readHeadersWithGaps(t, l, start, 1<<30, 1<<40)
	gaps := 0
	for i := 1; i < len(hs); i++ {
		if hs[i].BaseOffset != hs[i-1].LastOffset()+1 {
			gaps++
		}
	}
	if gaps == 0 {
		t.Fatal("no gap between batches to test")
	}
	for off := start; off < end; off++ {
		got, _ := readHeadersWithGaps(t, l, off, 1, 1<<40)
		if len(got) != 1 || got[0].LastOffset() < off {
			t.Fatalf("read %d: %+v", off, got)
		}
		// The batch holding off, or the first after the gap it falls in.
		for _, h := range hs {
			if h.LastOffset() >= off {
				if h.BaseOffset != got[0].BaseOffset {
					t.Fatalf("read %d returned batch %d, want %d", off, got[0].BaseOffset, h.BaseOffset)
				}
				break
			}
		}
		// A high watermark inside a gap stops before the batch after it.
		if lim, _ := readHeadersWithGaps(t, l, start, 1<<30, off); len(lim) > 0 && lim[len(lim)-1].BaseOffset >= off {
			t.Fatalf("limit %d returned batch %d", off, lim[len(lim)-1].BaseOffset)
		}
	}
	for i := int64(0); i < 200; i += 7 {
		b, ok, err := l.OffsetForTimestamp(base + i)
		if err != nil || !ok {
			t.Fatalf("offset for timestamp %d: %v %v", i, ok, err)
		}
		h, _ := records.ParseHeader(b)
		if h.MaxTimestamp < base+i {
			t.Fatalf("timestamp %d: batch %d has max %d", i, h.BaseOffset, h.MaxTimestamp)
		}
		for _, r := range readRecords(t, l) {
			if r.ts >= base+i {
				if r.offset < h.BaseOffset || r.offset > h.LastOffset() {
					t.Fatalf("timestamp %d: first record at %d, lookup gave batch %d-%d", i, r.offset, h.BaseOffset, h.LastOffset())
				}
				break
			}
		}
	}
}

func TestRecoveryAcceptsCompactedSegments(t *testing.T) {
	fs := vfs.NewMem()
	cfg := compactConfig(t)
	l := mustOpen(t, fs, cfg, nil)
	model := fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	mustCompact(t, l, CompactOptions{})
	end := l.EndOffset()

	// A crash (no clean shutdown) scans every segment not below the recovery point; a
	// lost checkpoint makes it scan them all.
	crashed := fs.CrashClone()
	if err := crashed.Remove(dirPath(testDir, checkpointName)); err != nil {
		t.Fatal(err)
	}
	l2 := mustOpen(t, crashed, cfg, nil)
	if l2.EndOffset() != end {
		t.Fatalf("recovered end %d, want %d", l2.EndOffset(), end)
	}
	checkLatestValues(t, l2, model)
	l2.Close()
	l3 := mustOpen(t, crashed, cfg, nil) // clean shutdown path
	defer l3.Close()
	checkLatestValues(t, l3, model)
	l.Close()
}

func TestTruncateIntoAGap(t *testing.T) {
	fs := vfs.NewMem()
	cfg := compactConfig(t)
	l := mustOpen(t, fs, cfg, nil)
	for i := 0; i < 100; i++ {
		appendKeyed(t, l, 1000, put(fmt.Sprintf("u%d", i), "x"))
		appendKeyed(t, l, 1000, put("hot", fmt.Sprint(i))) // dropped whole, leaving a gap
	}
	mustSync(t, l)
	mustCompact(t, l, CompactOptions{})
	hs, _ := readHeadersWithGaps(t, l, 0, 1<<30, 1<<40)
	var gapAt int64 = -1
	for i := 1; i < len(hs)-1; i++ {
		if hs[i].BaseOffset > hs[i-1].LastOffset()+1 {
			gapAt, hs = hs[i].BaseOffset-1, hs[:i]
			break
		}
	}
	if gapAt < 0 {
		t.Fatal("no gap")
	}
	if err := l.Truncate(gapAt); err != nil {
		t.Fatal(err)
	}
	if want := hs[len(hs)-1].LastOffset() + 1; l.EndOffset() != want {
		t.Fatalf("end %d after truncating into the gap at %d, want %d", l.EndOffset(), gapAt, want)
	}
	appendKeyed(t, l, 1000, put("after", "truncate"))
	l.writeMu.Lock()
	err := l.rollWriteLocked(time.Now()) // seal the cut segment: recovery checks where it ends
	l.writeMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, l)
	end := l.EndOffset()
	l2 := mustOpen(t, fs.CrashClone(), cfg, nil)
	defer l2.Close()
	if l2.EndOffset() != end {
		t.Fatalf("recovered end %d, want %d", l2.EndOffset(), end)
	}
	l.Close()
}

func TestAppendAssignedAcceptsCompactedGaps(t *testing.T) {
	src := mustOpen(t, vfs.NewMem(), compactConfig(t), nil)
	defer src.Close()
	model := fillKeys(t, src, 30, 10, 1000)
	mustSync(t, src)
	mustCompact(t, src, CompactOptions{})
	c, err := src.Read(0, 1<<30, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := c.ReadInto(nil)
	c.Release()

	dst := mustOpen(t, vfs.NewMem(), compactConfig(t), nil)
	defer dst.Close()
	if err := dst.AppendAssigned(all); err != nil {
		t.Fatal(err)
	}
	if dst.EndOffset() != src.EndOffset() {
		t.Fatalf("follower end %d, leader %d", dst.EndOffset(), src.EndOffset())
	}
	checkLatestValues(t, dst, model)
}

func TestCompactLeavesNoTemporaryFiles(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, compactConfig(t), nil)
	defer l.Close()
	fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	mustCompact(t, l, CompactOptions{})
	names, _ := fs.List(testDir)
	for _, n := range names {
		if strings.HasSuffix(n, cleanedSuffix) || strings.HasSuffix(n, swapSuffix) {
			t.Fatalf("left %s", n)
		}
	}
}

func TestCompactKeepsProducersLastBatchAndControlBatches(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), compactConfig(t), nil)
	defer l.Close()
	producerBatch := func(pid int64, seq int32, key string) int64 {
		b := records.Build(records.BuildOptions{BaseTimestamp: 1000,
			Producer: &records.ProducerFields{ID: pid, Epoch: 0, BaseSequence: seq}},
			[]records.Record{{Key: []byte(key), Value: []byte("v")}})
		res, err := l.Append(b, 1)
		if err != nil {
			t.Fatal(err)
		}
		return res.BaseOffset
	}
	var kept, expired []int64
	for seq := int32(0); seq < 5; seq++ {
		producerBatch(7, seq, "shared")
		producerBatch(8, seq, "shared")
	}
	kept = append(kept, producerBatch(7, 5, "shared"))
	expired = append(expired, producerBatch(8, 5, "shared"))
	marker, err := l.Append(records.ControlBatch(9, 0, true, 0, 1000), 1)
	if err != nil {
		t.Fatal(err)
	}
	fillKeys(t, l, 30, 10, 1000) // supersedes nothing above, but rolls segments
	producerBatch(9, 0, "shared")
	fillKeys(t, l, 5, 10, 1000)
	mustSync(t, l)

	mustCompact(t, l, CompactOptions{KeepProducer: func(id int64) bool { return id != 8 }})
	hs, _ := readHeadersWithGaps(t, l, 0, 1<<30, 1<<40)
	bases := map[int64]records.Header{}
	for _, h := range hs {
		bases[h.BaseOffset] = h
	}
	if h, ok := bases[kept[0]]; !ok || h.NumRecords != 0 || h.ProducerID != 7 || h.LastSequence() != 5 {
		t.Fatalf("producer 7's last batch: %+v %v", h, ok)
	}
	if _, ok := bases[expired[0]]; ok {
		t.Fatal("kept the last batch of a producer no longer tracked")
	}
	if h, ok := bases[marker.BaseOffset]; !ok || !h.IsControl() || h.NumRecords != 1 {
		t.Fatalf("control batch: %+v %v", h, ok)
	}
}

func TestOffsetMapBudgetSplitsThePass(t *testing.T) {
	defer func(b int64) { offsetMapBudget = b }(offsetMapBudget)
	offsetMapBudget = 1
	l := mustOpen(t, vfs.NewMem(), compactConfig(t), nil)
	defer l.Close()
	model := fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	first := mustCompact(t, l, CompactOptions{})
	if !first.Compacted || first.CleanedTo >= l.activeLocked().base {
		t.Fatalf("first pass %+v should stop early", first)
	}
	checkLatestValues(t, l, model)
	cfg := compactConfig(t)
	cfg.MinCleanableDirtyRatio = 0
	l.SetConfig(cfg)
	for i := 0; i < 100 && l.cleanedTo < l.activeLocked().base; i++ {
		mustCompact(t, l, CompactOptions{})
	}
	if l.cleanedTo != l.activeLocked().base {
		t.Fatalf("cleaned to %d, active segment at %d", l.cleanedTo, l.activeLocked().base)
	}
	checkLatestValues(t, l, model)
}

func TestCleanedPointSurvivesRestartAndFollowsTruncation(t *testing.T) {
	fs := vfs.NewMem()
	cfg := compactConfig(t)
	l := mustOpen(t, fs, cfg, nil)
	fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	res := mustCompact(t, l, CompactOptions{})
	l.Close()
	l = mustOpen(t, fs, cfg, nil)
	if l.cleanedTo != res.CleanedTo {
		t.Fatalf("cleaned to %d after reopen, want %d", l.cleanedTo, res.CleanedTo)
	}
	if err := l.Truncate(res.CleanedTo - 5); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = mustOpen(t, fs, cfg, nil)
	defer l.Close()
	if l.cleanedTo > l.EndOffset() {
		t.Fatalf("cleaned to %d beyond end %d after truncation", l.cleanedTo, l.EndOffset())
	}
}

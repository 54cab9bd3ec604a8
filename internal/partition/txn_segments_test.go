package partition

import (
	"errors"
	"io/fs"
	"reflect"
	"testing"
	"time"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/vfs"
)

// openTiny opens the partition with segments so small that every batch gets its own:
// segment bases are the batches' offsets.
func openTiny(t *testing.T, fsys vfs.FS, edit func(*Config)) *Partition {
	t.Helper()
	cfg := Config{Topic: "t", Index: 0, FS: fsys, Dir: testDir, Log: wlog.DefaultConfig(), DurableAcks: true}
	cfg.Log.SegmentBytes = 14
	if edit != nil {
		edit(&cfg)
	}
	p, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// segmentTxnFile returns the entries of segment base's index file; ok is false if it
// does not exist.
func segmentTxnFile(t *testing.T, fsys vfs.FS, base int64) (entries []AbortedTxn, ok bool) {
	t.Helper()
	b, missing, err := readTxnIndexFile(fsys, wlog.SegmentPath(testDir, base, txnIndexSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if missing {
		return nil, false
	}
	entries, err = decodeAbortedIndex(b)
	if err != nil {
		t.Fatalf("index file of segment %d: %v", base, err)
	}
	return entries, true
}

// checkTxnFiles checks that every segment of p has an index file holding exactly the
// aborts whose marker it holds (want lists them for all segments), and that the
// segments gone have no file left.
func checkTxnFiles(t *testing.T, fsys vfs.FS, p *Partition, want []AbortedTxn, gone ...int64) {
	t.Helper()
	bases := p.Log().SegmentBases()
	for i, base := range bases {
		end := int64(1 << 62)
		if i+1 < len(bases) {
			end = bases[i+1]
		}
		var inSeg []AbortedTxn
		for _, e := range want {
			if e.LastOffset >= base && e.LastOffset < end {
				inSeg = append(inSeg, e)
			}
		}
		got, ok := segmentTxnFile(t, fsys, base)
		if !ok || !reflect.DeepEqual(got, inSeg) {
			t.Fatalf("index file of segment %d: %v (exists %v), want %v", base, got, ok, inSeg)
		}
	}
	for _, base := range gone {
		if _, ok := segmentTxnFile(t, fsys, base); ok {
			t.Fatalf("index file of deleted segment %d still exists", base)
		}
	}
}

func TestTxnIndexFilesPerSegmentFollowRetention(t *testing.T) {
	mem := vfs.NewMem()
	p := openTiny(t, mem, nil)
	writeLayout(t, p)
	if got := len(p.Log().SegmentBases()); got != 11 {
		t.Fatalf("%d segments, want one per batch", got)
	}
	checkTxnFiles(t, mem, p, layoutAborted)

	// retention.bytes that keeps the segments from 5 on.
	var keep int64
	for base := int64(5); base <= 10; base++ {
		st, err := mem.Stat(wlog.SegmentPath(testDir, base, ".log"))
		if err != nil {
			t.Fatal(err)
		}
		keep += st.Size()
	}
	cfg := p.cfg
	cfg.Log.RetentionBytes = keep
	p.SetConfig(cfg)
	if err := p.Maintain(time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	if start := p.Log().StartOffset(); start != 5 {
		t.Fatalf("log start %d after retention, want 5", start)
	}
	want := layoutAborted[1:]
	checkTxnFiles(t, mem, p, want, 0, 1, 2, 3, 4)
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("aborted after retention: %v, want %v", got, want)
	}
	if _, _, aborted := readCommitted(t, p, 5, 1<<20); !reflect.DeepEqual(aborted, want) {
		t.Fatalf("read committed from 5: %v, want %v", aborted, want)
	}
	wantState := stateOf(p)

	crashed := mem.CrashClone()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for name, fsys := range map[string]vfs.FS{"clean restart": mem, "crash": crashed} {
		p := openTiny(t, fsys, nil)
		if got := stateOf(p); !reflect.DeepEqual(got, wantState) {
			t.Fatalf("after a %s: %v, want %v", name, got, wantState)
		}
		checkTxnFiles(t, fsys, p, want, 0, 1, 2, 3, 4)
		p.Close()
	}
}

func TestTxnIndexFilesFollowTruncation(t *testing.T) {
	mem := vfs.NewMem()
	p := openTiny(t, mem, nil)
	writeLayout(t, p)
	// The segments from the abort marker at 8 on go, with their files.
	if err := p.Truncate(8); err != nil {
		t.Fatal(err)
	}
	checkTxnFiles(t, mem, p, layoutAborted[:1], 8, 9, 10)
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, layoutAborted[:1]) {
		t.Fatalf("aborted after truncation: %v", got)
	}
	// The retried marker lands in a new segment 8 with a new file.
	mustMarker(t, p, 3, 0, false)
	checkTxnFiles(t, mem, p, layoutAborted)
	want := stateOf(p)
	crashed := mem.CrashClone()
	p.Close()
	p = openTiny(t, crashed, nil)
	if got := stateOf(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a crash: %v, want %v", got, want)
	}
	p.Close()

	// One segment holding both aborts: Truncate cuts its file.
	mem = vfs.NewMem()
	p = open(t, mem)
	defer p.Close()
	writeLayout(t, p)
	if err := p.Truncate(7); err != nil {
		t.Fatal(err)
	}
	checkTxnFiles(t, mem, p, layoutAborted[:1])
	mustMarker(t, p, 3, 0, false) // appending after the cut entry works
	checkTxnFiles(t, mem, p, []AbortedTxn{layoutAborted[0], {3, 6, 7}})
}

// TestCrashBetweenMarkerAndIndexSync makes the abort marker durable but not its index
// entry, in a segment of its own: the replay from the producer snapshot restores it.
func TestCrashBetweenMarkerAndIndexSync(t *testing.T) {
	mem := vfs.NewMem()
	p := openTiny(t, mem, nil)
	writeLayout(t, p)
	if err := p.Close(); err != nil { // a producer snapshot at 11
		t.Fatal(err)
	}
	p = openTiny(t, mem, nil)
	mustAppendTxn(t, p, 5, 0, 0, "a5")
	p.syncMu.Lock() // no group commit
	res, err := p.AppendMarker(5, 0, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.log.Sync(); err != nil { // the marker alone is durable
		t.Fatal(err)
	}
	crashed := mem.CrashClone()
	p.syncMu.Unlock()
	p.Close()
	if res.LastOffset != 12 {
		t.Fatalf("marker at %d", res.LastOffset)
	}
	if got, ok := segmentTxnFile(t, crashed, 12); !ok || len(got) != 0 {
		t.Fatalf("the crash kept the index entry (%v, %v): the test proves nothing", got, ok)
	}
	p = openTiny(t, crashed, nil)
	defer p.Close()
	want := append(append([]AbortedTxn(nil), layoutAborted...), AbortedTxn{5, 11, 12})
	if got := stateOf(p); !reflect.DeepEqual(got, txnState{hw: 13, lso: 9, aborted: want, open: "[{4 9}]"}) {
		t.Fatalf("after the crash: %v", got)
	}
	checkTxnFiles(t, crashed, p, want)
}

func TestMissingSegmentTxnIndexIsRebuilt(t *testing.T) {
	mem := vfs.NewMem()
	p := openTiny(t, mem, nil)
	writeLayout(t, p)
	if err := p.Close(); err != nil { // a producer snapshot at 11
		t.Fatal(err)
	}
	p = openTiny(t, mem, nil)
	mustAppendTxn(t, p, 5, 0, 0, "a5")
	mustMarker(t, p, 5, 0, false)
	want := stateOf(p)
	base := mem.CrashClone()
	p.Close()
	all := append(append([]AbortedTxn(nil), layoutAborted...), AbortedTxn{5, 11, 12})

	for _, tc := range []struct {
		name string
		edit func(fsys vfs.FS)
	}{
		// Below the snapshot: found by the scan from the log start.
		{"below the snapshot", func(fsys vfs.FS) { removeTxnFile(t, fsys, 4) }},
		// Above it: found by the replay.
		{"above the snapshot", func(fsys vfs.FS) { removeTxnFile(t, fsys, 12) }},
		{"several", func(fsys vfs.FS) {
			for _, b := range []int64{3, 4, 8, 12} {
				removeTxnFile(t, fsys, b)
			}
		}},
		// An older version's partition-level file: every segment's file is rebuilt.
		{"migration", func(fsys vfs.FS) {
			for b := int64(0); b <= 12; b++ {
				removeTxnFile(t, fsys, b)
			}
			f, err := fsys.Create(legacyIndexPath(testDir))
			if err != nil {
				t.Fatal(err)
			}
			f.Write(encodeAbortedIndex(all))
			f.Sync()
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			damaged := base.CrashClone()
			tc.edit(damaged)
			p := openTiny(t, damaged, nil)
			if got := stateOf(p); !reflect.DeepEqual(got, want) {
				t.Fatalf("after the rebuild: %v, want %v", got, want)
			}
			checkTxnFiles(t, damaged, p, all)
			if _, err := damaged.Stat(legacyIndexPath(testDir)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the partition-level file is still there: %v", err)
			}
			// The rebuilt files are durable.
			crashed := damaged.CrashClone()
			p.Close()
			p = openTiny(t, crashed, nil)
			defer p.Close()
			if got := stateOf(p); !reflect.DeepEqual(got, want) {
				t.Fatalf("after another restart: %v, want %v", got, want)
			}
			checkTxnFiles(t, crashed, p, all)
		})
	}
}

func removeTxnFile(t *testing.T, fsys vfs.FS, base int64) {
	t.Helper()
	if err := fsys.Remove(wlog.SegmentPath(testDir, base, txnIndexSuffix)); err != nil {
		t.Fatal(err)
	}
}

// TestCompactionCarriesTxnIndexesOver merges the segments below the LSO into one: its
// file holds the sources' aborts.
func TestCompactionCarriesTxnIndexesOver(t *testing.T) {
	mem := vfs.NewMem()
	p := openTiny(t, mem, nil)
	writeLayout(t, p) // the LSO stays at 9: producer 4's transaction is open
	before := len(p.Log().SegmentBases())
	cfg := p.cfg
	cfg.Log.SegmentBytes = 1 << 20
	cfg.Log.CleanupPolicyCompact, cfg.Log.CleanupPolicyDelete = true, false
	p.SetConfig(cfg)
	if err := p.Maintain(time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	if after := len(p.Log().SegmentBases()); after >= before {
		t.Fatalf("compaction merged nothing: %d segments, then %d", before, after)
	}
	checkTxnFiles(t, mem, p, layoutAborted, 1, 2, 3, 4)
	want := stateOf(p)
	if !reflect.DeepEqual(want.aborted, layoutAborted) {
		t.Fatalf("aborted after compaction: %v", want.aborted)
	}
	crashed := mem.CrashClone()
	p.Close()
	p = openTiny(t, crashed, func(c *Config) { c.Log = cfg.Log })
	defer p.Close()
	if got := stateOf(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a crash: %v, want %v", got, want)
	}
	checkTxnFiles(t, crashed, p, layoutAborted, 1, 2, 3, 4)
}

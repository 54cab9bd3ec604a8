package log

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

const testDir = "/p/topic-0"

func TestCrashKeepsExactlyTheSyncedPrefix(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, testConfig(t), nil)
	appendN(t, l, 100, 5, 100, 1000) // several rolls
	durable, err := l.Sync()
	if err != nil || durable != 500 {
		t.Fatalf("sync: %d %v", durable, err)
	}
	appendN(t, l, 100, 5, 100, 1000) // more rolls, never synced

	crashed := fs.CrashClone()
	l2 := mustOpen(t, crashed, testConfig(t), nil)
	defer l2.Close()
	if l2.EndOffset() != 500 || l2.DurableEnd() != 500 {
		t.Fatalf("after crash: end %d durable %d, want 500", l2.EndOffset(), l2.DurableEnd())
	}
	hs, _ := readHeaders(t, l2, 0, 1<<30, 1<<40)
	if len(hs) != 100 {
		t.Fatalf("%d batches", len(hs))
	}
	// It keeps working: appends continue at the recovered end.
	if res, err := l2.Append(makeBatch(1, 10, 1000), 1); err != nil || res.BaseOffset != 500 {
		t.Fatalf("append after recovery: %+v %v", res, err)
	}
}

func TestRecoveryTrustsSegmentsBelowRecoveryPoint(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, testConfig(t), nil)
	appendN(t, l, 100, 5, 100, 1000)
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	c, _, err := readCheckpoint(fs, testDir)
	if err != nil || c.recoveryPoint == 0 {
		t.Fatalf("recovery point did not advance: %+v %v", c, err)
	}
	crashed := fs.CrashClone()
	reads := countLogReads(crashed)
	l2 := mustOpen(t, reads.fs, testConfig(t), nil)
	defer l2.Close()
	if l2.EndOffset() != 500 {
		t.Fatalf("end %d", l2.EndOffset())
	}
	// Only the segments from the recovery point on were read.
	if total := l2.Size(); reads.n.Load() >= total/2 {
		t.Fatalf("recovery read %d of %d bytes", reads.n.Load(), total)
	}
	hs, _ := readHeaders(t, l2, 0, 1<<30, 1<<40)
	if len(hs) != 100 {
		t.Fatalf("%d batches", len(hs))
	}
}

type readCounter struct {
	fs *vfs.ErrorFS
	n  atomic.Int64
}

// countLogReads wraps fs to count bytes read from .log files.
func countLogReads(fs vfs.FS) *readCounter {
	rc := &readCounter{}
	rc.fs = vfs.WithErrors(fs, vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpRead && strings.HasSuffix(op.Path, logSuffix) {
			rc.n.Add(int64(op.Len))
		}
		return nil
	}))
	return rc
}

func TestCleanShutdownSkipsScan(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, testConfig(t), nil)
	appendN(t, l, 100, 5, 100, 1000)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(dirPath(testDir, cleanMarkerName)); err != nil {
		t.Fatalf("no marker after Close: %v", err)
	}
	reads := countLogReads(fs.CrashClone()) // Close made everything durable
	l2 := mustOpen(t, reads.fs, testConfig(t), nil)
	if n, total := reads.n.Load(), l2.Size(); n > total/3 {
		t.Fatalf("clean open read %d of %d bytes of segments", n, total)
	}
	if l2.EndOffset() != 500 {
		t.Fatalf("end %d", l2.EndOffset())
	}
	if _, err := reads.fs.Stat(dirPath(testDir, cleanMarkerName)); err == nil {
		t.Fatal("marker still present after open")
	}
	hs, _ := readHeaders(t, l2, 0, 1<<30, 1<<40)
	if len(hs) != 100 {
		t.Fatalf("%d batches", len(hs))
	}
	appendN(t, l2, 10, 5, 100, 1000)
	if _, err := l2.Sync(); err != nil {
		t.Fatal(err)
	}
	// Crash without Close: the next open must scan, not trust the stale marker.
	l3 := mustOpen(t, reads.fs, testConfig(t), nil)
	defer l3.Close()
	if l3.EndOffset() != 550 {
		t.Fatalf("end after reopen %d", l3.EndOffset())
	}
}

// activeSegmentName returns the path of the last .log in the test directory.
func activeSegmentName(t *testing.T, fs vfs.FS) string {
	t.Helper()
	names, err := fs.List(testDir)
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	for _, n := range names {
		if strings.HasSuffix(n, logSuffix) {
			last = n
		}
	}
	return testDir + "/" + last
}

func rewriteFile(t *testing.T, fs vfs.FS, name string, b []byte) {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	f.Close()
}

func TestTornAndCorruptTailsAreTruncated(t *testing.T) {
	one := len(makeBatch(5, 100, 1000))
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
		want   int64
	}{
		{"torn header", func(b []byte) []byte { return b[:len(b)-one+30] }, 45},
		{"torn body", func(b []byte) []byte { return b[:len(b)-10] }, 45},
		{"flipped byte in last batch", func(b []byte) []byte { b[len(b)-50] ^= 0x40; return b }, 45},
		{"flipped byte in a middle batch", func(b []byte) []byte { b[len(b)-3*one+100] ^= 1; return b }, 35},
		{"bad magic", func(b []byte) []byte { b[len(b)-one+16] = 3; return b }, 45},
		{"offset going backwards", func(b []byte) []byte { b[len(b)-one+7]--; return b }, 45},
		{"garbage appended", func(b []byte) []byte { return append(b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13) }, 50},
		{"zeros appended", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			cfg := testConfig(t)
			cfg.SegmentBytes = 1 << 20
			l := mustOpen(t, fs, cfg, nil)
			appendN(t, l, 10, 5, 100, 1000)
			if _, err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			crashed := fs.CrashClone()
			name := activeSegmentName(t, crashed)
			rewriteFile(t, crashed, name, tc.damage(readAllFile(t, crashed, name)))

			l2 := mustOpen(t, crashed, cfg, nil)
			defer l2.Close()
			if l2.EndOffset() != tc.want {
				t.Fatalf("end %d, want %d", l2.EndOffset(), tc.want)
			}
			hs, size := readHeaders(t, l2, 0, 1<<30, 1<<40)
			if int64(len(hs)*5) != tc.want {
				t.Fatalf("%d batches", len(hs))
			}
			if got := int64(len(readAllFile(t, crashed, name))); got != int64(size) {
				t.Fatalf("file is %d bytes, valid batches %d", got, size)
			}
			if res, err := l2.Append(makeBatch(5, 100, 1000), 0); err != nil || res.BaseOffset != tc.want {
				t.Fatalf("append after repair: %+v %v", res, err)
			}
		})
	}
}

func TestDamageInEarlierSegmentDropsLaterOnes(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, testConfig(t), nil)
	appendN(t, l, 60, 5, 100, 1000)
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone()
	// With no checkpoint every segment is scanned.
	if err := crashed.Remove(dirPath(testDir, checkpointName)); err != nil {
		t.Fatal(err)
	}
	name := dirPath(testDir, "00000000000000000000.log")
	b := readAllFile(t, crashed, name)
	b[len(b)/2] ^= 0xff
	rewriteFile(t, crashed, name, b)
	l2 := mustOpen(t, crashed, testConfig(t), nil)
	defer l2.Close()
	l2.mu.RLock()
	nsegs := len(l2.segs)
	l2.mu.RUnlock()
	if nsegs != 1 || l2.EndOffset() >= 100 || l2.EndOffset()%5 != 0 {
		t.Fatalf("segments %d end %d", nsegs, l2.EndOffset())
	}
}

func TestCorruptIndexIsRebuilt(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, testConfig(t), nil)
	appendN(t, l, 60, 5, 100, 1000)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	idx := dirPath(testDir, "00000000000000000000.index")
	b := readAllFile(t, fs, idx)
	rewriteFile(t, fs, idx, append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)) // points past the end
	rewriteFile(t, fs, dirPath(testDir, "00000000000000000000.timeindex"), []byte{1, 2, 3})
	l2 := mustOpen(t, fs, testConfig(t), nil)
	defer l2.Close()
	for off := int64(0); off < 300; off += 11 {
		hs, _ := readHeaders(t, l2, off, 1, 1<<40)
		if hs[0].BaseOffset > off || hs[0].LastOffset() < off {
			t.Fatalf("offset %d read batch %d", off, hs[0].BaseOffset)
		}
	}
	if got := readAllFile(t, fs, idx); !bytes.Equal(got, b) {
		t.Fatalf("rebuilt index differs from the original: %d vs %d bytes", len(got), len(b))
	}
}

func TestCorruptCheckpointFallsBackToFullScan(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, testConfig(t), nil)
	appendN(t, l, 60, 5, 100, 1000)
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone()
	rewriteFile(t, crashed, dirPath(testDir, checkpointName), []byte("garbage"))
	l2 := mustOpen(t, crashed, testConfig(t), nil)
	defer l2.Close()
	if l2.EndOffset() != 300 || l2.StartOffset() != 0 {
		t.Fatalf("end %d start %d", l2.EndOffset(), l2.StartOffset())
	}
}

// TestRandomCrashes runs seeded random operations, crashes at random points and checks
// that the reopened log holds exactly what was appended, at least up to the durable end
// at the crash, and nothing invalid.
func TestRandomCrashes(t *testing.T) {
	crashes := 0
	for seed := uint64(1); seed <= 12; seed++ {
		crashesThisSeed := 0
		rng := rand.New(rand.NewPCG(seed, 99))
		fs := vfs.NewMem()
		cfg := testConfig(t)
		cfg.SegmentBytes = 4 << 10
		l := mustOpen(t, fs, cfg, nil)
		model := map[int64][]byte{} // base offset → batch as appended
		for step := 0; step < 300; step++ {
			switch op := rng.IntN(100); {
			case op < 70:
				b := makeBatch(1+rng.IntN(5), rng.IntN(300), 1000+int64(step))
				res, err := l.Append(b, int32(seed))
				if err != nil {
					t.Fatal(err)
				}
				model[res.BaseOffset] = b
			case op < 85:
				if _, err := l.Sync(); err != nil {
					t.Fatal(err)
				}
			case op < 89:
				if err := l.DeleteBefore(l.StartOffset() + rng.Int64N(l.EndOffset()-l.StartOffset()+1)); err != nil {
					t.Fatal(err)
				}
			case op < 93:
				end := l.EndOffset()
				if err := l.Truncate(end - rng.Int64N(min(end, 20)+1)); err != nil {
					t.Fatal(err)
				}
				for base := range model {
					if base >= l.EndOffset() {
						delete(model, base)
					}
				}
			default:
				durable := l.DurableEnd()
				start := l.StartOffset()
				crashed := fs.CrashClone()
				crashesThisSeed++
				l = mustOpen(t, crashed, cfg, nil)
				fs = crashed
				if l.EndOffset() < durable {
					t.Fatalf("seed %d step %d: end %d below durable %d", seed, step, l.EndOffset(), durable)
				}
				if l.StartOffset() < start && l.StartOffset() < l.EndOffset() {
					t.Fatalf("seed %d step %d: start went back from %d to %d", seed, step, start, l.StartOffset())
				}
				for base := range model {
					if base >= l.EndOffset() {
						delete(model, base)
					}
				}
			}
		}
		seen := 0
		err := l.Scan(l.StartOffset(), func(h records.Header, batch []byte) error {
			if want, ok := model[h.BaseOffset]; !ok || !bytes.Equal(want, batch) {
				return errors.New("batch differs from the one appended")
			}
			seen++
			return nil
		})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if want := l.EndOffset() - l.StartOffset(); seen == 0 && want > 0 {
			t.Fatalf("seed %d: scan saw nothing of %d offsets", seed, want)
		}
		crashes += crashesThisSeed
		l.Close()
	}
	t.Logf("%d crashes", crashes)
}

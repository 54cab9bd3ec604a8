package log

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waybill/waybill/internal/vfs"
)

// compactableLog fills a log on fs with many superseded values and a tombstone, all
// durable, ready for a compaction that rewrites several groups.
func compactableLog(t *testing.T, fs vfs.FS, cfg Config) (*Log, []rec) {
	t.Helper()
	l := mustOpen(t, fs, cfg, nil)
	model := appendKeyed(t, l, 1000, put("gone", "soon"))
	model = append(model, fillKeys(t, l, 4, 10, 1000)...)
	model = append(model, appendKeyed(t, l, 1000, del("gone"))...)
	model = append(model, fillKeys(t, l, 6, 10, 1000)...)
	mustSync(t, l)
	return l, model
}

func noSwapLeftovers(t *testing.T, fs vfs.FS) {
	t.Helper()
	names, err := fs.List(testDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, cleanedSuffix) || strings.HasSuffix(n, swapSuffix) {
			t.Fatalf("recovery left %s", n)
		}
	}
}

// TestCrashAtEveryStepOfTheSwap takes a power-loss image before every file operation of
// a compaction and checks that each recovers to the old or the new segments, with the
// latest value of every key.
func TestCrashAtEveryStepOfTheSwap(t *testing.T) {
	mem := vfs.NewMem()
	var armed atomic.Bool
	var images []*vfs.MemFS
	var steps []string
	fs := vfs.WithErrors(mem, vfs.InjectorFunc(func(op vfs.Op) error {
		switch op.Kind {
		case vfs.OpCreate, vfs.OpSync, vfs.OpRename, vfs.OpRemove, vfs.OpSyncDir:
			if armed.Load() {
				images = append(images, mem.CrashClone())
				steps = append(steps, op.Kind.String()+" "+filepath.Base(op.Path))
			}
		}
		return nil
	}))
	cfg := compactConfig(t)
	l, model := compactableLog(t, fs, cfg)
	defer l.Close()
	sizeBefore, end := l.Size(), l.EndOffset()
	armed.Store(true)
	res := mustCompact(t, l, CompactOptions{})
	armed.Store(false)
	images = append(images, mem.CrashClone())
	steps = append(steps, "after")
	if res.SegmentsBefore <= res.SegmentsAfter && res.BytesAfter >= res.BytesBefore {
		t.Fatalf("compaction did little: %+v", res)
	}

	rolledBack, rolledForward := 0, 0
	for i, img := range images {
		l2, err := Open(img, testDir, cfg, nil)
		if err != nil {
			t.Fatalf("step %d (%s): open: %v", i, steps[i], err)
		}
		if l2.EndOffset() != end {
			t.Fatalf("step %d (%s): end %d, want %d", i, steps[i], l2.EndOffset(), end)
		}
		checkLatestValues(t, l2, model)
		noSwapLeftovers(t, img)
		if l2.Size() == sizeBefore {
			rolledBack++
		} else {
			rolledForward++
		}
		// The recovered log compacts again and still holds every latest value.
		if _, err := l2.Compact(CompactOptions{}); err != nil {
			t.Fatalf("step %d (%s): compact after recovery: %v", i, steps[i], err)
		}
		checkLatestValues(t, l2, model)
		l2.Close()
	}
	if rolledBack == 0 || rolledForward == 0 {
		t.Fatalf("%d images rolled back, %d forward: the crash points miss a side", rolledBack, rolledForward)
	}
	t.Logf("%d crash points: %d rolled back, %d rolled forward", len(images), rolledBack, rolledForward)
}

// TestCompactionErrorsAtEveryStep fails each file operation of a compaction in turn: the
// log keeps serving every latest value, and reopening it (after a crash) does too.
func TestCompactionErrorsAtEveryStep(t *testing.T) {
	cfg := compactConfig(t)
	for n := int64(0); ; n++ {
		mem := vfs.NewMem()
		var armed atomic.Bool
		var count atomic.Int64
		injected := errors.New("injected")
		fs := vfs.WithErrors(mem, vfs.InjectorFunc(func(op vfs.Op) error {
			switch op.Kind {
			case vfs.OpCreate, vfs.OpOpen, vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpRemove, vfs.OpSyncDir:
				if armed.Load() && count.Add(1)-1 == n {
					return fmt.Errorf("%s %s: %w", op.Kind, filepath.Base(op.Path), injected)
				}
			}
			return nil
		}))
		l, model := compactableLog(t, fs, cfg)
		armed.Store(true)
		_, err := l.Compact(CompactOptions{})
		armed.Store(false)
		if err == nil && count.Load() <= n {
			l.Close()
			if n == 0 {
				t.Fatal("compaction did no file operations")
			}
			t.Logf("failed each of %d operations", n)
			return
		}
		checkLatestValues(t, l, model)
		img := mem.CrashClone()
		l.Close()
		l2, err := Open(img, testDir, cfg, nil)
		if err != nil {
			t.Fatalf("operation %d: reopen: %v", n, err)
		}
		checkLatestValues(t, l2, model)
		noSwapLeftovers(t, img)
		l2.Close()
	}
}

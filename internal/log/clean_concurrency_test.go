package log

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// TestReadersDuringCompaction compacts over and over while one goroutine appends and
// syncs and others read: every read must return whole, valid batches with increasing
// offsets, and Chunks taken before a compaction stay readable until released. Run it
// with -race.
func TestReadersDuringCompaction(t *testing.T) {
	cfg := compactConfig(t)
	cfg.MinCleanableDirtyRatio = 0
	l := mustOpen(t, vfs.NewMem(), cfg, nil)
	defer l.Close()
	fillKeys(t, l, 10, 10, 1000)
	mustSync(t, l)

	// Chunks held across compactions keep the old bytes.
	held, err := l.Read(0, 1<<30, l.DurableEnd())
	if err != nil {
		t.Fatal(err)
	}
	before, err := held.ReadInto(nil)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	var done atomic.Bool
	var hw atomic.Int64
	hw.Store(l.DurableEnd())
	wg.Add(1)
	go func() { // the appender
		defer wg.Done()
		defer done.Store(true)
		for i := 0; i < 300; i++ {
			if _, err := l.Append(keyedBatch(1000, put(fmt.Sprintf("k%d", i%10), fmt.Sprint(i))), 1); err != nil {
				t.Error(err)
				return
			}
			if i%10 == 0 {
				d, err := l.Sync()
				if err != nil {
					t.Error(err)
					return
				}
				hw.Store(d)
			}
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func(seed uint64) { // readers
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 1))
			for !done.Load() {
				start, end := l.StartOffset(), l.EndOffset()
				off := start + rng.Int64N(end-start+1)
				c, err := l.Read(off, 4096, end)
				if err != nil {
					t.Error(err)
					return
				}
				b, err := c.ReadInto(nil)
				c.Release()
				if err != nil {
					t.Error(err)
					return
				}
				last := int64(-1)
				for len(b) > 0 {
					h, err := records.ParseHeader(b)
					if err != nil || records.CheckCRC(b, h) != nil || h.BaseOffset <= last || (last < 0 && h.LastOffset() < off) {
						t.Errorf("read at %d: bad batch %+v (%v)", off, h, err)
						return
					}
					last = h.LastOffset()
					b = b[h.Size():]
				}
			}
		}(uint64(r))
	}
	passes := 0
	for !done.Load() {
		if _, err := l.Compact(CompactOptions{UncleanableFrom: hw.Load()}); err != nil {
			t.Fatal(err)
		}
		passes++
	}
	wg.Wait()
	after, err := held.ReadInto(nil)
	held.Release()
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("held chunks changed under compaction (%v)", err)
	}
	mustSync(t, l)
	res := mustCompact(t, l, CompactOptions{})
	last := lastPerKey(readRecords(t, l))
	for k := 0; k < 10; k++ {
		if r := last[fmt.Sprintf("k%d", k)]; string(r.value) != fmt.Sprint(290+k) {
			t.Fatalf("k%d = %q after %d passes (%+v)", k, r.value, passes, res)
		}
	}
}

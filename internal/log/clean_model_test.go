package log

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/vfs"
)

// TestCompactionAgainstModel runs random appends (updates, tombstones, records without
// a key), syncs, compactions, clock jumps, tail truncations, crashes and reopens, and
// after each step that can lose or rewrite data compares the log with a model: the list
// of appended records, whose last record per key must be what the log says.
func TestCompactionAgainstModel(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runCompactionModel(t, seed) })
	}
}

func runCompactionModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	clk := newClock()
	mem := vfs.NewMem()
	cfg := compactConfig(t)
	cfg.DeleteRetentionMs = 60_000
	cfg.MinCleanableDirtyRatio = rng.Float64() * 0.6
	cfg.SegmentBytes = 512 + rng.Int64N(2048)
	l := mustOpen(t, mem, cfg, clk.now)
	defer func() { l.Close() }()

	var model []rec
	var hw int64 // compaction stays below it; truncation stays above it
	dropFrom := func(end int64) {
		for len(model) > 0 && model[len(model)-1].offset >= end {
			model = model[:len(model)-1]
		}
	}
	compactions := 0
	for step := 0; step < 400; step++ {
		switch op := rng.IntN(100); {
		case op < 55:
			n := 1 + rng.IntN(4)
			kvs := make([]kv, n)
			for i := range kvs {
				key := fmt.Sprintf("key-%d", rng.IntN(12))
				switch r := rng.IntN(100); {
				case r < 12:
					kvs[i] = del(key)
				case r < 15:
					kvs[i] = kv{value: []byte("keyless")}
				default:
					kvs[i] = put(key, fmt.Sprintf("s%d-%d", step, i))
				}
			}
			model = append(model, appendKeyed(t, l, clk.ms(), kvs...)...)
		case op < 67:
			mustSync(t, l)
			hw = l.DurableEnd()
		case op < 80:
			res := mustCompact(t, l, CompactOptions{UncleanableFrom: hw})
			if res.Compacted {
				compactions++
			}
			checkLatestValues(t, l, model)
		case op < 85:
			clk.advance(time.Duration(rng.Int64N(2*cfg.DeleteRetentionMs)) * time.Millisecond)
		case op < 89:
			end := l.EndOffset()
			if end > hw {
				if err := l.Truncate(hw + rng.Int64N(end-hw)); err != nil {
					t.Fatal(err)
				}
				dropFrom(l.EndOffset())
			}
		case op < 95:
			durable := l.DurableEnd()
			crashed := mem.CrashClone()
			l.Close()
			mem = crashed
			l = mustOpen(t, mem, cfg, clk.now)
			if l.EndOffset() < durable {
				t.Fatalf("step %d: end %d below durable %d", step, l.EndOffset(), durable)
			}
			dropFrom(l.EndOffset())
			hw = min(hw, l.EndOffset())
			checkLatestValues(t, l, model)
		default:
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, mem, cfg, clk.now)
			checkLatestValues(t, l, model)
		}
	}
	mustSync(t, l)
	clk.advance(time.Duration(2*cfg.DeleteRetentionMs) * time.Millisecond)
	for i := 0; i < 3; i++ { // twice to drop tombstones, once more for good measure
		if _, err := l.Compact(CompactOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	checkLatestValues(t, l, model)
	if compactions == 0 {
		t.Fatal("nothing compacted")
	}
}

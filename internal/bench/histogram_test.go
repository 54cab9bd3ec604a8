package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketIndexRoundTrips(t *testing.T) {
	for _, v := range []int64{0, 1, 255, 256, 257, 1000, 123456789, math.MaxInt64} {
		i := bucketIndex(v)
		if i < 0 || i >= bucketCount {
			t.Fatalf("bucketIndex(%d) = %d, out of range", v, i)
		}
		if up := bucketUpperEdge(i); up < v {
			t.Errorf("value %d: bucket %d upper edge %d is below it", v, i, up)
		}
		if i > 0 && bucketUpperEdge(i-1) >= v {
			t.Errorf("value %d: previous bucket %d already covers it", v, i-1)
		}
	}
}

func TestQuantilesWithinPrecision(t *testing.T) {
	var h Histogram
	values := make([]int64, 100000)
	for i := range values {
		values[i] = int64(rand.ExpFloat64() * 2e6) // exponential, mean 2 ms
		h.Record(time.Duration(values[i]))
	}
	slices.Sort(values)
	for _, q := range []float64{0.5, 0.99, 0.999} {
		exact := values[int(math.Ceil(q*float64(len(values))))-1]
		got := int64(h.Quantile(q))
		if got < exact || float64(got-exact) > float64(exact)/subBuckets+1 {
			t.Errorf("q%.3f = %d, exact %d: beyond 1/%d", q, got, exact, subBuckets)
		}
	}
	if h.Max() != time.Duration(values[len(values)-1]) {
		t.Errorf("max = %v, want %v", h.Max(), time.Duration(values[len(values)-1]))
	}
	if h.Count() != uint64(len(values)) {
		t.Errorf("count = %d", h.Count())
	}
}

func TestMergeAndEmpty(t *testing.T) {
	var a, b Histogram
	if a.Quantile(0.99) != 0 || a.Mean() != 0 {
		t.Fatal("empty histogram must report zero")
	}
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	b.Record(-time.Second) // counted as zero
	a.Merge(&b)
	if a.Count() != 3 || a.Max() != 3*time.Millisecond || a.Quantile(0) != 0 {
		t.Errorf("merged: count %d max %v min %v", a.Count(), a.Max(), a.Quantile(0))
	}
}

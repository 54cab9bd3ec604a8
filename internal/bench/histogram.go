package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram counts durations in logarithmic buckets with 128 linear sub-buckets per
// power of two (HDR-style), so any recorded value is reported within 1/128 (< 0.8%) of
// its true value. Values below 256 ns are exact. Record is lock-free and safe for
// concurrent use; the zero value is ready.
type Histogram struct {
	buckets [bucketCount]atomic.Uint64
	count   atomic.Uint64
	sumNs   atomic.Uint64
	maxNs   atomic.Int64
}

const (
	subBucketBits = 7
	subBuckets    = 1 << subBucketBits // linear sub-buckets per power of two
	exactLimit    = 2 * subBuckets     // values below this have their own bucket
	// bucketCount covers every non-negative int64: shifts 1 to 63-(subBucketBits+1).
	bucketCount = exactLimit + (63-subBucketBits-1)*subBuckets
)

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	ns := max(int64(d), 0)
	h.buckets[bucketIndex(ns)].Add(1)
	h.count.Add(1)
	h.sumNs.Add(uint64(ns))
	for {
		cur := h.maxNs.Load()
		if ns <= cur || h.maxNs.CompareAndSwap(cur, ns) {
			return
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.maxNs.Load()) }

// Mean is the average recorded value, or zero when nothing was recorded.
func (h *Histogram) Mean() time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sumNs.Load() / n)
}

// Quantile returns the value at quantile q (0.99 is p99): the upper edge of the bucket
// holding the ceil(q*count)-th smallest value, never above Max. Zero when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketUpperEdge(i)), h.Max())
		}
	}
	return h.Max()
}

// Merge adds every value recorded in other to h.
func (h *Histogram) Merge(other *Histogram) {
	for i := range other.buckets {
		if c := other.buckets[i].Load(); c > 0 {
			h.buckets[i].Add(c)
		}
	}
	h.count.Add(other.count.Load())
	h.sumNs.Add(other.sumNs.Load())
	for {
		cur, om := h.maxNs.Load(), other.maxNs.Load()
		if om <= cur || h.maxNs.CompareAndSwap(cur, om) {
			return
		}
	}
}

// bucketIndex maps a non-negative value to its bucket: values below exactLimit map to
// themselves; above, the top subBucketBits+1 significant bits select the bucket.
func bucketIndex(v int64) int {
	if v < exactLimit {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBucketBits + 1)
	mantissa := int(v >> shift) // in [subBuckets, 2*subBuckets)
	return exactLimit + (shift-1)*subBuckets + mantissa - subBuckets
}

// bucketUpperEdge is the largest value that maps to bucket i.
func bucketUpperEdge(i int) int64 {
	if i < exactLimit {
		return int64(i)
	}
	shift := (i-exactLimit)/subBuckets + 1
	mantissa := int64((i-exactLimit)%subBuckets + subBuckets)
	low := mantissa << shift
	return low + (int64(1) << shift) - 1
}

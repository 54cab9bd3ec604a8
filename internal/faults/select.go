package faults

import (
	"math/rand/v2"
	"sync"
)

// Selector picks which of the frames a rule matched are hit. It is called once per
// matching frame, in the order the proxy judges them, and keeps its own count, so a
// selector belongs to one rule. Selectors are safe for concurrent use.
//
// Counting selectors are exact; Probability is seeded, so a run that shows the rule the
// same frames in the same order hits the same ones again. Frames of different
// connections reach a rule in the order the proxy happens to read them, so replaying a
// run exactly needs a workload whose matching frames come in a fixed order (one
// connection carrying them, as a producer's connection to one broker does).
type Selector func() bool

// Always hits every matching frame.
func Always() Selector { return func() bool { return true } }

// Nth hits the n-th matching frame (1-based) and the count-1 following ones.
func Nth(n, count int) Selector {
	var mu sync.Mutex
	seen := 0
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		seen++
		return seen >= n && seen < n+count
	}
}

// Every hits every n-th matching frame (the n-th, the 2n-th, …), at most limit of them
// (0: no limit).
func Every(n, limit int) Selector {
	var mu sync.Mutex
	seen, hit := 0, 0
	return func() bool {
		if n <= 0 {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		if seen%n == 0 && (limit == 0 || hit < limit) {
			hit++
			return true
		}
		return false
	}
}

// Probability hits each matching frame with probability p, drawn from a generator seeded
// with seed, at most limit of them (0: no limit). The same seed and the same sequence of
// matching frames give the same hits.
func Probability(p float64, seed int64, limit int) Selector {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	hit := 0
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		// Draw even when the limit is reached, so that the draws stay aligned with the
		// frames whatever the limit.
		if rng.Float64() < p && (limit == 0 || hit < limit) {
			hit++
			return true
		}
		return false
	}
}

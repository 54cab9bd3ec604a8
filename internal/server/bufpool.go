package server

import (
	"math/bits"
	"sync"
)

// Produce requests are the large ones, and a fresh buffer for each would be zeroed by the
// allocator only to be overwritten by the read. Their buffers come from pools by power of
// two size class and go back once the response is written: until then the decoded request,
// and strings of the response that alias it, may still point into the buffer.

const (
	minPooledShift = 16 // 64 KiB: smaller requests are cheap to allocate
	maxPooledShift = 24 // 16 MiB: larger ones are rare enough not to keep around
)

var bufPools [maxPooledShift + 1]sync.Pool

// pooledSize reports whether a buffer of n bytes comes from a pool, and its class.
func pooledSize(n int) (int, bool) {
	if n < 1<<minPooledShift || n > 1<<maxPooledShift {
		return 0, false
	}
	return bits.Len(uint(n - 1)), true
}

// getBuf returns a buffer of length n and a function that gives it back, nil when n is
// not pooled.
func getBuf(n int) ([]byte, func()) {
	shift, ok := pooledSize(n)
	if !ok {
		return make([]byte, n), nil
	}
	p, _ := bufPools[shift].Get().(*[]byte)
	if p == nil {
		b := make([]byte, 1<<shift)
		p = &b
	}
	return (*p)[:n], func() { bufPools[shift].Put(p) }
}

package compat_test

import (
	"context"
	"fmt"
	"sync"
)

// progress is state shared between client goroutines and the test: updates wake
// waiters, which re-check their condition, so a test waits for an event, never a
// duration.
type progress struct {
	mu      sync.Mutex
	changed chan struct{}
}

func newProgress() *progress { return &progress{changed: make(chan struct{})} }

// update runs f under the lock and wakes every waiter.
func (p *progress) update(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	close(p.changed)
	p.changed = make(chan struct{})
}

// read runs f under the lock.
func (p *progress) read(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

// waitUntil returns once cond (checked under the lock) holds, or an error naming what
// was awaited when ctx ends first.
func (p *progress) waitUntil(ctx context.Context, what string, cond func() bool) error {
	for {
		p.mu.Lock()
		ok, changed := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

package durability_test

import (
	"fmt"
	"sync"
)

// produceLedger records what a producer was told about each value it sent: acknowledged,
// or failed. A value in neither set is still unknown.
type produceLedger struct {
	mu       sync.Mutex
	acked    map[string]bool
	failed   map[string]error
	watchers []ackWatcher
}

type ackWatcher struct {
	atLeast int
	reached chan struct{}
}

func newProduceLedger() *produceLedger {
	return &produceLedger{acked: map[string]bool{}, failed: map[string]error{}}
}

// record is a kgo promise: it files the value under acked or failed.
func (l *produceLedger) record(value string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed[value] = err
		return
	}
	l.acked[value] = true
	kept := l.watchers[:0]
	for _, w := range l.watchers {
		if len(l.acked) >= w.atLeast {
			close(w.reached)
		} else {
			kept = append(kept, w)
		}
	}
	l.watchers = kept
}

// ackedAtLeast returns a channel closed once n values have been acknowledged.
func (l *produceLedger) ackedAtLeast(n int) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := ackWatcher{atLeast: n, reached: make(chan struct{})}
	if len(l.acked) >= n {
		close(w.reached)
	} else {
		l.watchers = append(l.watchers, w)
	}
	return w.reached
}

// ackedValues is a copy of the acknowledged set.
func (l *produceLedger) ackedValues() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]bool, len(l.acked))
	for v := range l.acked {
		out[v] = true
	}
	return out
}

func (l *produceLedger) counts() (acked, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), len(l.failed)
}

// someFailure describes one failure, for messages.
func (l *produceLedger) someFailure() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for v, err := range l.failed {
		return fmt.Sprintf("%s: %v", v, err)
	}
	return "none"
}

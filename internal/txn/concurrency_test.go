package txn

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestConcurrentProducers runs whole transactions for many ids at once, with
// the sweeps and Describe racing them, for the race detector.
func TestConcurrentProducers(t *testing.T) {
	h := newHarness(t, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("tx-%d", i)
			p := h.initProducer(id)
			for round := range 10 {
				// A transaction waits for the markers of the one before.
				for {
					code := h.add(p, tp("a", int32(round)), tp("b", int32(i)))
					if code == 0 {
						break
					}
					if code != kerr.ConcurrentTransactions.Code {
						t.Errorf("%s: AddPartitionsToTxn: %v", id, kerr.ErrorForCode(code))
						return
					}
					runtime.Gosched()
				}
				if code := h.end(p, round%2 == 0); code != 0 {
					t.Errorf("%s: EndTxn: %v", id, kerr.ErrorForCode(code))
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			h.c.abortTimedOut()
			h.c.removeExpired()
			h.describe("tx-0")
			runtime.Gosched()
		}
	})
	wg.Wait()
	h.settle()
	if calls := len(h.markers.recorded()); calls != 80 {
		t.Fatalf("got %d marker calls, want 80 (8 ids, 10 transactions each)", calls)
	}
	for i := range 8 {
		if s := h.state(fmt.Sprintf("tx-%d", i)); s != "CompleteAbort" {
			t.Fatalf("tx-%d ended in %s, want CompleteAbort", i, s)
		}
	}
}

func TestBackgroundSweepAbortsTimedOutTransaction(t *testing.T) {
	h := newHarness(t, func(cfg *Config) { cfg.AbortTimedOutCheckInterval = time.Millisecond })
	h.markers.mu.Lock()
	h.markers.notify = make(chan markerCall, 1)
	h.markers.mu.Unlock()
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("a", 0)), nil)
	h.clock.Advance(time.Hour)
	select {
	case call := <-h.markers.notify:
		if call.commit || call.epoch != p.epoch+1 {
			t.Fatalf("marker call %+v, want an abort at epoch %d", call, p.epoch+1)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sweep did not abort the timed out transaction")
	}
}

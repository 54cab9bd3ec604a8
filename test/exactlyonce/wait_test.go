package exactlyonce_test

import (
	"testing"
	"time"
)

// waitUntil checks cond every interval until it holds, failing the test with what was
// awaited once timeout has passed.
func waitUntil(t *testing.T, timeout, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

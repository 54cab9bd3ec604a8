package lab

import (
	"context"
	"fmt"
	"time"
)

// ReadFinal reads every partition of topic from its start to its end (the last stable
// offset when readCommitted) within timeout and records it in rec as the final read,
// marking the partitions read to their end complete. A partition the read could not
// finish in time is left incomplete, so the checker counts the acknowledged values it
// did not reach as Unseen rather than Lost.
func ReadFinal(ctx context.Context, rec *Recorder, bootstrap, topic string, readCommitted bool, timeout time.Duration) error {
	lc, err := readAll(ctx, bootstrap, topic, readCommitted, timeout)
	if err != nil {
		return fmt.Errorf("final read of %s: %w", topic, err)
	}
	lc.record(rec, readCommitted)
	return nil
}

package bench

import (
	"sync/atomic"
	"time"
)

// txnMeter counts the transactions of one transactional produce phase.
type txnMeter struct {
	committed atomic.Int64
	aborted   atomic.Int64
	// commitLatency times each EndTransaction(TryCommit) that had records to commit.
	commitLatency Histogram
	// length times each committed transaction from BeginTransaction to the return of
	// its EndTransaction: producing, flushing and committing.
	length Histogram
}

// Transactions are the extra figures of a transactional produce phase.
type Transactions struct {
	Committed       int64    `json:"committed"`
	Aborted         int64    `json:"aborted"` // commits that failed, then aborted
	CommittedPerSec float64  `json:"committed_per_sec"`
	CommitLatency   *Latency `json:"commit_latency_ms,omitempty"` // EndTransaction(TryCommit)
	MeanLengthMs    float64  `json:"mean_length_ms"`              // begin to commit returned
}

// summary is nil for a phase without transactions.
func (t *txnMeter) summary(elapsed time.Duration) *Transactions {
	if t == nil {
		return nil
	}
	s := &Transactions{
		Committed:     t.committed.Load(),
		Aborted:       t.aborted.Load(),
		CommitLatency: summarize(&t.commitLatency),
		MeanLengthMs:  millis(t.length.Mean()),
	}
	if secs := elapsed.Seconds(); secs > 0 {
		s.CommittedPerSec = float64(s.Committed) / secs
	}
	return s
}

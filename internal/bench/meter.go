package bench

import (
	"sync"
	"sync/atomic"
	"time"
)

// meter counts what one phase has done so far; the phase's workers update it and the
// progress reporter reads it concurrently.
type meter struct {
	records   atomic.Int64
	bytes     atomic.Int64
	errors    atomic.Int64
	latency   Histogram
	errOnce   sync.Once
	firstErr  atomic.Value // string
	startedAt time.Time
	// txns counts the transactions of a transactional produce phase; nil otherwise.
	txns *txnMeter
}

func newMeter() *meter { return &meter{startedAt: time.Now()} }

// done counts one record of n bytes that completed.
func (m *meter) done(n int) {
	m.records.Add(1)
	m.bytes.Add(int64(n))
}

// failed counts a record that failed, keeping the first error for the report.
func (m *meter) failed(err error) {
	m.errors.Add(1)
	m.errOnce.Do(func() { m.firstErr.Store(err.Error()) })
}

// failedMany counts n records that failed together, such as those of a transaction
// that did not commit.
func (m *meter) failedMany(n int64, err error) {
	m.errors.Add(n)
	m.errOnce.Do(func() { m.firstErr.Store(err.Error()) })
}

func (m *meter) firstError() string {
	s, _ := m.firstErr.Load().(string)
	return s
}

// doneMany counts n records totalling b bytes.
func (m *meter) doneMany(n, b int64) {
	m.records.Add(n)
	m.bytes.Add(b)
}

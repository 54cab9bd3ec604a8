package producers

import (
	"testing"

	"github.com/waybill/waybill/internal/records"
)

// batch is the header of an idempotent batch of n records starting at sequence seq.
func batch(pid int64, epoch int16, seq int32, n int32) records.Header {
	return records.Header{
		Magic: 2, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq,
		LastOffsetDelta: n - 1, NumRecords: n,
	}
}

// appender plays the partition: it checks, assigns offsets and updates, as the produce
// path does.
type appender struct {
	t     *testing.T
	s     *State
	next  int64
	clock int64
}

func newAppender(t *testing.T) *appender { return &appender{t: t, s: NewState(), clock: 1000} }

// produce runs one batch through Check and, if accepted, Update. It returns the base
// offset the producer is answered with.
func (a *appender) produce(h records.Header) (int64, error) {
	a.t.Helper()
	dup, err := a.s.Check(h)
	if err != nil {
		return -1, err
	}
	if dup != nil {
		return dup.FirstOffset, nil
	}
	h.BaseOffset = a.next
	a.next += int64(h.NumRecords)
	a.clock++
	a.s.Update(h, a.clock)
	return h.BaseOffset, nil
}

func (a *appender) mustProduce(h records.Header) int64 {
	a.t.Helper()
	off, err := a.produce(h)
	if err != nil {
		a.t.Fatalf("produce pid %d epoch %d seq %d: %v", h.ProducerID, h.ProducerEpoch, h.BaseSequence, err)
	}
	return off
}

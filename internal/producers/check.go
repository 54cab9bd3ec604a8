package producers

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/waybill/waybill/internal/records"
)

// Check decides, before an append, whether the batch with header h may be appended (see
// the package comment for the rules). It returns:
//
//   - nil, nil: append it, then call Update;
//   - dup, nil: a retry of the cached batch dup; append nothing and answer success with
//     dup's offsets;
//   - nil, err: refuse it; err wraps kerr.InvalidProducerEpoch or
//     kerr.OutOfOrderSequenceNumber (test with errors.Is; records.KafkaCode maps it).
//
// Batches without a producer id (non-idempotent producers) always pass. Check does not
// change the state. h must have passed records.Validate.
func (s *State) Check(h records.Header) (dup *BatchInfo, err error) {
	if !h.HasProducer() {
		return nil, nil
	}
	p, ok := s.producers[h.ProducerID]
	if !ok {
		return nil, nil // KIP-360: an unknown producer is accepted with any sequence
	}
	if err := p.checkEpoch(h.ProducerID, h.ProducerEpoch); err != nil {
		return nil, err
	}
	if h.ProducerEpoch > p.epoch {
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d new epoch %d must start at sequence 0, not %d",
				kerr.OutOfOrderSequenceNumber, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	first, last := h.BaseSequence, h.LastSequence()
	for _, b := range p.cached() {
		if b.FirstSeq == first && b.LastSeq == last {
			dup := b
			return &dup, nil
		}
	}
	// With nothing cached for this epoch (only a transaction marker was written, say),
	// Kafka expects the epoch's first sequence.
	lastSeq := int32(-1)
	if b, ok := p.last(); ok {
		lastSeq = b.LastSeq
	}
	if !inSequence(lastSeq, first) {
		return nil, fmt.Errorf("%w: producer %d epoch %d expected sequence %d, got %d",
			kerr.OutOfOrderSequenceNumber, h.ProducerID, h.ProducerEpoch, nextSequence(lastSeq), first)
	}
	return nil, nil
}

// inSequence reports whether next directly follows last.
func inSequence(last, next int32) bool { return next == nextSequence(last) }

// nextSequence is the sequence after last, wrapping from MaxInt32 to 0.
func nextSequence(last int32) int32 {
	if last == math.MaxInt32 {
		return 0
	}
	return last + 1
}

// checkEpoch fences a writer whose epoch is older than the producer's current one: a
// zombie that a newer instance (or the coordinator, with a marker) has replaced.
func (p *producer) checkEpoch(id int64, epoch int16) error {
	if epoch < p.epoch {
		return fmt.Errorf("%w: producer %d epoch %d is older than the current %d",
			kerr.InvalidProducerEpoch, id, epoch, p.epoch)
	}
	return nil
}

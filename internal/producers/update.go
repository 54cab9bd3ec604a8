package producers

import "github.com/waybill/waybill/internal/records"

// Update records a batch the partition has just appended; h carries the base offset
// the log assigned. appendTimeMs is the broker's clock at the append, which both
// dates the batch for expiry and is what a duplicate's answer reports. Call it only for
// batches Check accepted (not for duplicates).
func (s *State) Update(h records.Header, appendTimeMs int64) { s.apply(h, appendTimeMs) }

// Replay records a batch read back from the log, when rebuilding the state after a
// snapshot or on a follower. It checks nothing: the log is the truth. timestampMs
// should be the best known append time, h.MaxTimestamp when nothing better is known.
func (s *State) Replay(h records.Header, timestampMs int64) { s.apply(h, timestampMs) }

func (s *State) apply(h records.Header, timestamp int64) {
	if !h.HasProducer() {
		return
	}
	p, ok := s.producers[h.ProducerID]
	if !ok {
		p = newProducer(h.ProducerEpoch)
		s.producers[h.ProducerID] = p
	}
	if h.ProducerEpoch != p.epoch {
		// A new epoch starts a new sequence space: the old epoch's batches can no
		// longer be retried successfully, so they are forgotten.
		p.epoch = h.ProducerEpoch
		p.numBatches = 0
	}
	p.lastTimestamp = timestamp
	if h.IsControl() {
		// A transaction marker ends the producer's transaction and carries no
		// sequence. Recording its coordinator epoch is left to the transaction code.
		p.txnFirstOffset = -1
		return
	}
	p.push(batchInfo(h, timestamp))
}

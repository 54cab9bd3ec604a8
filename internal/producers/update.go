package producers

import "github.com/waybill/waybill/internal/records"

// Update records a batch the partition has just appended; h carries the base offset
// the log assigned. appendTimeMs is the broker's clock at the append, which both
// dates the batch for expiry and is what a duplicate's answer reports. Call it only for
// batches Check (or CheckCoordinator) accepted, not for duplicates; transaction
// markers go through ApplyMarker instead, which also records the coordinator epoch.
func (s *State) Update(h records.Header, appendTimeMs int64) { s.apply(h, appendTimeMs) }

// Replay records a batch read back from the log, when rebuilding the state after a
// snapshot or on a follower. It checks nothing: the log is the truth. timestampMs
// should be the best known append time, h.MaxTimestamp when nothing better is known.
func (s *State) Replay(h records.Header, timestampMs int64) { s.apply(h, timestampMs) }

func (s *State) apply(h records.Header, timestamp int64) {
	if !h.HasProducer() {
		return
	}
	p := s.touch(h, timestamp)
	if h.IsControl() {
		// A transaction marker ends the producer's transaction and carries no
		// sequence. Its coordinator epoch is in its record: see ApplyMarker.
		p.txnFirstOffset = -1
		return
	}
	if h.IsTransactional() && p.txnFirstOffset < 0 {
		// The first transactional batch since the last marker opens a transaction;
		// later ones join it. An epoch bump does not end it: only a marker does.
		p.txnFirstOffset = h.BaseOffset
	}
	if h.BaseSequence < 0 {
		// A coordinator's batch (transactional offset commits) has a producer id and
		// epoch but no sequence: there is nothing to deduplicate against.
		return
	}
	p.push(batchInfo(h, timestamp))
}

// touch returns h's producer, creating it or moving it to h's epoch, and dates it.
func (s *State) touch(h records.Header, timestamp int64) *producer {
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
	return p
}

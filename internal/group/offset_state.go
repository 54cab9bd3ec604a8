package group

// offsetState is one group's offsets as its __consumer_offsets records
// define them: the committed offsets, and per producer the transactional
// offsets that wait for that producer's transaction marker. Load feeds it
// the replayed records and the handlers feed it what they append, through
// the same methods, so a reload always rebuilds the state the handlers left.
// It follows Kafka's OffsetMetadataManager.
type offsetState struct {
	committed map[topicPartition]committedOffset
	pending   map[int64]map[topicPartition]committedOffset // producer id -> offsets
}

func newOffsetState() offsetState {
	return offsetState{
		committed: make(map[topicPartition]committedOffset),
		pending:   make(map[int64]map[topicPartition]committedOffset),
	}
}

// commit applies a non-transactional offset record. It always wins: it is
// the newest record of tp in the log.
func (s *offsetState) commit(tp topicPartition, o committedOffset) {
	s.committed[tp] = o
}

// stage applies a transactional offset record of producerID.
func (s *offsetState) stage(producerID int64, tp topicPartition, o committedOffset) {
	p := s.pending[producerID]
	if p == nil {
		p = make(map[topicPartition]committedOffset)
		s.pending[producerID] = p
	}
	p[tp] = o
}

// remove applies an offset tombstone: it deletes the committed offset and
// every pending one of tp, so that a later commit marker cannot bring back
// an offset that was deleted (Kafka does the same on replay).
func (s *offsetState) remove(tp topicPartition) {
	delete(s.committed, tp)
	for producerID, p := range s.pending {
		delete(p, tp)
		if len(p) == 0 {
			delete(s.pending, producerID)
		}
	}
}

// complete applies producerID's transaction marker. On commit each pending
// offset replaces the committed one unless that was written later in the
// log: a plain OffsetCommit sent after the TxnOffsetCommit, but before the
// marker, stays (Kafka compares record offsets the same way).
func (s *offsetState) complete(producerID int64, commit bool) {
	p := s.pending[producerID]
	delete(s.pending, producerID)
	if !commit {
		return
	}
	for tp, o := range p {
		if current, ok := s.committed[tp]; !ok || o.logOrder > current.logOrder {
			s.committed[tp] = o
		}
	}
}

// hasPending reports whether a transaction has an offset for tp in flight.
func (s *offsetState) hasPending(tp topicPartition) bool {
	for _, p := range s.pending {
		if _, ok := p[tp]; ok {
			return true
		}
	}
	return false
}

// pendingPartitions lists the partitions with a pending offset, each once.
func (s *offsetState) pendingPartitions() []topicPartition {
	seen := make(map[topicPartition]struct{})
	var tps []topicPartition
	for _, p := range s.pending {
		for tp := range p {
			if _, ok := seen[tp]; !ok {
				seen[tp] = struct{}{}
				tps = append(tps, tp)
			}
		}
	}
	return tps
}

// empty reports whether nothing is committed and nothing is pending.
func (s *offsetState) empty() bool {
	return len(s.committed) == 0 && len(s.pending) == 0
}

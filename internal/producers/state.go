package producers

import "github.com/waybill/waybill/internal/records"

// MaxCachedBatches is how many of a producer's latest batches are remembered for
// duplicate detection. Kafka clients keep at most five requests in flight per
// connection when idempotent, so a retry is always among the last five.
const MaxCachedBatches = 5

// BatchInfo is what the state remembers of one appended batch.
type BatchInfo struct {
	FirstSeq    int32
	LastSeq     int32
	FirstOffset int64
	LastOffset  int64
	// Timestamp is the time the batch was appended (ms), as passed to Update or Replay.
	Timestamp int64
}

// ProducerInfo is a copy of one producer's state.
type ProducerInfo struct {
	ID    int64
	Epoch int16
	// Batches are the cached batches, oldest first; at most MaxCachedBatches.
	Batches       []BatchInfo
	LastTimestamp int64
	// TxnFirstOffset is the first offset of the producer's ongoing transaction, -1 when
	// none: set by its first transactional batch, cleared by a marker. CoordinatorEpoch
	// is the epoch of the transaction coordinator that last wrote a marker for it, -1
	// when none. Both are snapshotted, and a producer whose transaction is open is never
	// expired.
	TxnFirstOffset   int64
	CoordinatorEpoch int32
}

// producer is the state of one producer id.
type producer struct {
	epoch         int16
	batches       [MaxCachedBatches]BatchInfo // oldest first
	numBatches    int
	lastTimestamp int64
	// Transaction state: see ProducerInfo.
	txnFirstOffset   int64
	coordinatorEpoch int32
}

func newProducer(epoch int16) *producer {
	return &producer{epoch: epoch, txnFirstOffset: -1, coordinatorEpoch: -1}
}

func (p *producer) cached() []BatchInfo { return p.batches[:p.numBatches] }

func (p *producer) last() (BatchInfo, bool) {
	if p.numBatches == 0 {
		return BatchInfo{}, false
	}
	return p.batches[p.numBatches-1], true
}

// push caches b, forgetting the oldest batch when full.
func (p *producer) push(b BatchInfo) {
	if p.numBatches == MaxCachedBatches {
		copy(p.batches[:], p.batches[1:])
		p.numBatches--
	}
	p.batches[p.numBatches] = b
	p.numBatches++
}

// State is the producer state of one partition replica. It is not safe for concurrent
// use: the partition serialises Check, Update, Replay, Expire and WriteSnapshot under
// its lock, and must call Update for a batch before Check of the next one.
type State struct {
	producers map[int64]*producer
}

// NewState returns a state with no producers.
func NewState() *State { return &State{producers: make(map[int64]*producer)} }

// Len is the number of producers tracked.
func (s *State) Len() int { return len(s.producers) }

// Producer returns a copy of producer id's state.
func (s *State) Producer(id int64) (ProducerInfo, bool) {
	p, ok := s.producers[id]
	if !ok {
		return ProducerInfo{}, false
	}
	return ProducerInfo{
		ID:               id,
		Epoch:            p.epoch,
		Batches:          append([]BatchInfo(nil), p.cached()...),
		LastTimestamp:    p.lastTimestamp,
		TxnFirstOffset:   p.txnFirstOffset,
		CoordinatorEpoch: p.coordinatorEpoch,
	}, true
}

func batchInfo(h records.Header, timestamp int64) BatchInfo {
	return BatchInfo{
		FirstSeq:    h.BaseSequence,
		LastSeq:     h.LastSequence(),
		FirstOffset: h.BaseOffset,
		LastOffset:  h.LastOffset(),
		Timestamp:   timestamp,
	}
}

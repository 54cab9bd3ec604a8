package txn

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The transaction states, with Kafka's ids and names (kmsg.TransactionState's
// String gives the names DescribeTransactions and ListTransactions use).
const (
	stateEmpty             = kmsg.TransactionStateEmpty
	stateOngoing           = kmsg.TransactionStateOngoing
	statePrepareCommit     = kmsg.TransactionStatePrepareCommit
	statePrepareAbort      = kmsg.TransactionStatePrepareAbort
	stateCompleteCommit    = kmsg.TransactionStateCompleteCommit
	stateCompleteAbort     = kmsg.TransactionStateCompleteAbort
	stateDead              = kmsg.TransactionStateDead
	statePrepareEpochFence = kmsg.TransactionStatePrepareEpochFence
)

const (
	noProducerID    int64 = -1
	noProducerEpoch int16 = -1
	noTimestamp     int64 = -1
)

// epochExhausted reports whether a producer epoch leaves no room for the
// bump that fencing needs, as Kafka's TransactionMetadata.isEpochExhausted:
// the last epoch handed to a producer is MaxInt16-2 bumped once, so that a
// fence can still add one.
func epochExhausted(epoch int16) bool { return epoch >= math.MaxInt16-1 }

// metadata is the state of one transactional id: what TxnMetadataValue
// persists, plus the KIP-360 memory of the previous producer id and epoch,
// which (as in Kafka before 4.0) lives in memory only.
type metadata struct {
	producerID     int64
	lastProducerID int64 // producer id before the latest transition
	epoch          int16
	lastEpoch      int16 // epoch a KIP-360 retry may still present
	timeoutMillis  int32
	state          kmsg.TransactionState
	partitions     map[TopicPartition]struct{} // added; in Prepare*, those still without a marker
	startMillis    int64                       // start of the current or last transaction, or -1
	updateMillis   int64                       // last transition
}

// next is m moved to state at now, with its own copy of the partitions.
// Every transition records the producer id it left as lastProducerID, as
// Kafka's prepareTransitionTo does, so that a KIP-360 retry that follows a
// producer id rotation is recognised only until the next transition.
func (m metadata) next(state kmsg.TransactionState, now time.Time) metadata {
	n := m
	n.lastProducerID = m.producerID
	n.state = state
	n.partitions = maps.Clone(m.partitions)
	if n.partitions == nil {
		n.partitions = make(map[TopicPartition]struct{})
	}
	n.updateMillis = now.UnixMilli()
	return n
}

func (m metadata) isPreparing() bool {
	return m.state == statePrepareCommit || m.state == statePrepareAbort
}

func (m metadata) hasOpenTransaction() bool {
	return m.state == stateOngoing || m.isPreparing() || m.state == statePrepareEpochFence
}

func (m metadata) sortedPartitions() []TopicPartition {
	return sortPartitions(slices.Collect(maps.Keys(m.partitions)))
}

func sortPartitions(tps []TopicPartition) []TopicPartition {
	slices.SortFunc(tps, func(a, b TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return tps
}

// transaction is one transactional id of a loaded partition.
type transaction struct {
	id    string
	owner *partitionState // immutable

	// mu guards everything below. It is held across Store.Append, so that
	// the order of an id's records in the log is the order in which they are
	// applied, and never across Markers.WriteMarkers.
	mu sync.Mutex
	// removed is set when the id expired and left the index; a request that
	// locked it afterwards looks the id up again.
	removed bool
	m       metadata
	// completion is the marker job of the transaction in Prepare*, nil
	// otherwise (and when the job was abandoned).
	completion *completion
}

// newTransaction is an id that InitProducerId is about to initialise: no
// producer id yet, nothing persisted.
func newTransaction(id string, owner *partitionState, now time.Time) *transaction {
	return &transaction{id: id, owner: owner, m: metadata{
		producerID:     noProducerID,
		lastProducerID: noProducerID,
		epoch:          noProducerEpoch,
		lastEpoch:      noProducerEpoch,
		state:          stateEmpty,
		partitions:     make(map[TopicPartition]struct{}),
		startMillis:    noTimestamp,
		updateMillis:   now.UnixMilli(),
	}}
}

// unloaded reports whether the partition owning t has been given up since t
// was loaded. Call with t.mu held or not; the answer only ever turns true.
func (t *transaction) unloaded() bool { return t.owner.ctx.Err() != nil }

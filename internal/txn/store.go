package txn

import "context"

// Record is one key/value record of a __transaction_state partition. Key and
// Value are encoded with Kafka's schemas (see the package documentation); a
// nil Value is a tombstone.
type Record struct {
	Key   []byte
	Value []byte
}

// Store is the coordinator's view of the __transaction_state partitions. The
// broker implements it over its replicated log, as it does group.Store.
type Store interface {
	// Append durably appends recs, in order and atomically as one batch, to
	// partition and returns once they are durable (for Waybill: committed to
	// the in-sync replicas). It may be called concurrently for different
	// transactional ids. On error nothing is applied in memory; errors that
	// are *kerr.Error values are mapped to the client as Kafka maps them (for
	// example NOT_LEADER_OR_FOLLOWER becomes NOT_COORDINATOR), context errors
	// count as REQUEST_TIMED_OUT and other errors as UNKNOWN_SERVER_ERROR.
	// The coordinator does not keep recs after it returns.
	Append(ctx context.Context, partition int32, recs []Record) error

	// Replay calls fn with every record of partition from the start, in
	// order, and stops at fn's first error, which it returns. Record slices
	// passed to fn may be reused after fn returns.
	Replay(partition int32, fn func(Record) error) error
}

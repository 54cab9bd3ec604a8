package group

import "context"

// Record is one key/value record of a __consumer_offsets partition. Key and
// Value are encoded with Kafka's schemas (see the package documentation); a
// nil Value is a tombstone.
type Record struct {
	Key   []byte
	Value []byte
}

// Store is the coordinator's view of the __consumer_offsets partitions. The
// broker implements it over its replicated log.
type Store interface {
	// Append durably appends recs, in order and atomically as one batch, to
	// partition and returns once they are durable (for Waybill: committed to
	// the in-sync replicas). It may be called concurrently for different
	// groups. On error nothing is applied in memory; errors that are
	// *kerr.Error values are mapped to the client as Kafka maps them (for
	// example NOT_LEADER_OR_FOLLOWER becomes NOT_COORDINATOR), other errors
	// become UNKNOWN_SERVER_ERROR, and context errors are treated as
	// REQUEST_TIMED_OUT. The coordinator does not keep recs after it returns.
	Append(ctx context.Context, partition int32, recs []Record) error

	// Replay calls fn with every record of partition from the start, in
	// order, and stops at fn's first error, which it returns. Record slices
	// passed to fn may be reused after fn returns.
	Replay(partition int32, fn func(Record) error) error
}

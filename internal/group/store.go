package group

import "context"

// Record is one record of a __consumer_offsets partition.
//
// Key and Value are encoded with Kafka's schemas (see the package
// documentation); a nil Value is a tombstone.
//
// The other fields describe the batch the record belongs to. They matter only
// on Replay: the coordinator leaves them zero in what it passes to Append and
// AppendTxn, and the Store ignores them there.
type Record struct {
	Key   []byte
	Value []byte

	// ProducerID is the producer id of the record's batch (-1 when the batch
	// has none). The coordinator reads it only when Transactional is set or
	// Marker is not nil.
	ProducerID int64
	// Transactional is the batch's transactional attribute bit: the record
	// is a transactional offset commit that stays pending until a marker of
	// ProducerID follows it in this partition.
	Transactional bool
	// Marker is set for a transaction marker (a control record of a
	// transactional control batch); Key and Value are nil then.
	Marker *Marker
}

// Marker is a transaction marker: the end of producer ProducerID's
// transaction on the partition it was written to.
type Marker struct {
	// Commit is true for a COMMIT marker (control type 1), false for ABORT
	// (control type 0).
	Commit bool
}

// Store is the coordinator's view of the __consumer_offsets partitions. The
// broker implements it over its replicated log.
//
// All writes of one group happen in the order the coordinator makes them
// (they are serialised by the group's mutex), so the log order of a group's
// records is the order of the calls that wrote them. The coordinator relies
// on that order when it decides which of a committed and a transactional
// offset is newer, exactly as Kafka compares record offsets.
type Store interface {
	// Append durably appends recs, in order and atomically as one
	// non-transactional batch (producer id -1), to partition and returns
	// once they are durable (for Waybill: committed to the in-sync
	// replicas). It may be called concurrently for different groups. On
	// error nothing is applied in memory; errors that are *kerr.Error
	// values are mapped to the client as Kafka maps them (for example
	// NOT_LEADER_OR_FOLLOWER becomes NOT_COORDINATOR), other errors become
	// UNKNOWN_SERVER_ERROR, and context errors are treated as
	// REQUEST_TIMED_OUT. The coordinator does not keep recs after it
	// returns.
	Append(ctx context.Context, partition int32, recs []Record) error

	// AppendTxn is Append for a TxnOffsetCommit: recs go out as one
	// TRANSACTIONAL batch of producerID at epoch (attributes bit 4 set,
	// base sequence 0 as Kafka's coordinator writes it; sequence numbers
	// are not checked for coordinator appends, epochs are), with the same
	// durability, concurrency and error rules as Append.
	//
	// The broker must make the append fail, with the *kerr.Error Kafka
	// uses, when:
	//   - epoch is older than the producer's current epoch on the partition
	//     (INVALID_PRODUCER_EPOCH / PRODUCER_FENCED);
	//   - the producer's transaction does not include this partition, or is
	//     no longer ongoing at the moment of the append (KIP-890 part 1
	//     verification, INVALID_TXN_STATE). This is what guarantees that a
	//     transaction marker is never written between the check and the
	//     append: the coordinator assumes that an AppendTxn that succeeds put
	//     its batch before the marker that ends the transaction. A
	//     verification that cannot reach the transaction coordinator returns
	//     NETWORK_EXCEPTION, which the client sees as
	//     COORDINATOR_LOAD_IN_PROGRESS (retriable), as in Kafka.
	//
	// After the transaction's marker for producerID is durably written to
	// partition, the broker calls Coordinator.CompleteTxn(partition,
	// producerID, commit).
	AppendTxn(ctx context.Context, partition int32, producerID int64, epoch int16, recs []Record) error

	// Replay calls fn with every record of partition from the start, in log
	// order, and stops at fn's first error, which it returns. Record slices
	// passed to fn may be reused after fn returns.
	//
	// Every record is delivered, read_uncommitted: records of aborted and
	// of still open transactions too, since the coordinator itself decides
	// what they become. For each record, ProducerID and Transactional are
	// those of its batch. A transactional control batch is delivered as one
	// Record with Marker set (and ProducerID the batch's producer id) when
	// its control record is a COMMIT or ABORT marker; other control records
	// are skipped.
	Replay(partition int32, fn func(Record) error) error
}

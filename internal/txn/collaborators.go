package txn

import "context"

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Markers writes transaction markers (control batches) to data partitions.
// The broker implements it by sending WriteTxnMarkers to the leader of each
// partition, or by appending locally when it leads the partition itself.
type Markers interface {
	// WriteMarkers durably appends a commit or abort control batch for the
	// producer to each partition (on whichever broker leads it) and returns
	// the partitions that failed, with why. The coordinator retries those
	// until they succeed or the partition is gone: an error that is
	// kerr.UnknownTopicOrPartition counts as done. ctx is canceled when the
	// coordinator gives up the transaction's __transaction_state partition.
	// It is called without any coordinator lock held, possibly concurrently
	// for different transactions.
	WriteMarkers(ctx context.Context, producerID int64, epoch int16, commit bool, coordinatorEpoch int32, partitions []TopicPartition) map[TopicPartition]error
}

// ProducerIDs hands out fresh producer ids (for Waybill: from the producer id
// blocks the controller allocates). Next must never return the same id twice
// across the cluster. Errors that are *kerr.Error values reach the client as
// they are; others become COORDINATOR_NOT_AVAILABLE, which clients retry.
type ProducerIDs interface {
	Next(ctx context.Context) (int64, error)
}

package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/txn"
)

// verifyTransactional is KIP-890 part 1's check before a transactional batch is appended:
// the producer's transaction must be ongoing with this partition added, so that a late or
// zombie write cannot open a transaction the coordinator does not know (a hanging
// transaction). The coordinator may be on another broker (verifyTxnPartition). Its errors
// are mapped as Kafka's produce path maps them.
func (b *Broker) verifyTransactional(transactionalID *string, h records.Header, topic string, index int32) int16 {
	if transactionalID == nil {
		return kerr.InvalidRecord.Code // a transactional batch needs its transactional id
	}
	// The produce path verifies before it appends, on the connection's reader, which has
	// no context of its own: verifyTimeout bounds the wait for another broker.
	err := b.verifyTxnPartition(context.Background(), *transactionalID, h.ProducerID, h.ProducerEpoch,
		txn.TopicPartition{Topic: topic, Partition: index})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, kerr.ProducerFenced):
		return kerr.InvalidProducerEpoch.Code
	case errors.Is(err, kerr.NotCoordinator), errors.Is(err, kerr.CoordinatorNotAvailable),
		errors.Is(err, kerr.CoordinatorLoadInProgress), errors.Is(err, kerr.ConcurrentTransactions),
		errors.Is(err, kerr.NetworkException):
		// Retriable for the producer without refreshing its coordinator or metadata; older
		// clients do not all retry NETWORK_EXCEPTION on a produce.
		b.log.Debug("transactional produce not verified; the producer retries", "transactional_id", *transactionalID,
			"topic", topic, "partition", index, "err", err)
		return kerr.NotEnoughReplicas.Code
	default:
		return errorCode(err)
	}
}

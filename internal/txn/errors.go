package txn

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
)

// code turns an optional Kafka error into a wire error code.
func code(err *kerr.Error) int16 {
	if err == nil {
		return 0
	}
	return err.Code
}

// asKafkaError classifies an error from a collaborator: Kafka errors as they
// are, context errors as REQUEST_TIMED_OUT, anything else as fallback.
func asKafkaError(err error, fallback *kerr.Error) *kerr.Error {
	var ke *kerr.Error
	switch {
	case errors.As(err, &ke):
		return ke
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut
	}
	return fallback
}

// appendError maps a failed Store.Append to what the client sees, as Kafka's
// TransactionStateManager.appendTransactionToLog does.
func appendError(err error) *kerr.Error {
	switch ke := asKafkaError(err, kerr.UnknownServerError); ke {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return kerr.UnknownServerError
	default:
		return ke
	}
}

// producerIDError maps a failed ProducerIDs.Next.
func producerIDError(err error) *kerr.Error {
	return asKafkaError(err, kerr.CoordinatorNotAvailable)
}

// fencedForVersion turns PRODUCER_FENCED into INVALID_PRODUCER_EPOCH for
// request versions that predate KIP-588's PRODUCER_FENCED: InitProducerId
// before v4, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn before v2.
func fencedForVersion(err *kerr.Error, version, firstVersionWithFenced int16) *kerr.Error {
	if err == kerr.ProducerFenced && version < firstVersionWithFenced {
		return kerr.InvalidProducerEpoch
	}
	return err
}

// keError returns err as an error interface value that is nil when err is.
func keError(err *kerr.Error) error {
	if err == nil {
		return nil
	}
	return err
}

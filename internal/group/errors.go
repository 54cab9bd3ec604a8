package group

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

// storeError classifies an Append error as a Kafka error before the
// per-API mapping below.
func storeError(err error) *kerr.Error {
	var ke *kerr.Error
	switch {
	case errors.As(err, &ke):
		return ke
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut
	}
	return kerr.UnknownServerError
}

// groupStoreError maps a failed group metadata append to what the client
// sees, as Kafka's GroupMetadataManager.storeGroup does.
func groupStoreError(err error) *kerr.Error {
	switch ke := storeError(err); ke {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.RequestTimedOut:
		return kerr.RebalanceInProgress
	case kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidFetchSize:
		return kerr.UnknownServerError
	default:
		return ke
	}
}

// offsetStoreError maps a failed offset append to what the client sees, as
// Kafka's GroupMetadataManager.storeOffsets does.
func offsetStoreError(err error) *kerr.Error {
	switch ke := storeError(err); ke {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidFetchSize:
		return kerr.InvalidCommitOffsetSize
	default:
		return ke
	}
}

// txnOffsetStoreError maps a failed transactional offset append, as Kafka's
// maybeConvertOffsetCommitError does: on top of the OffsetCommit mapping, a
// transaction verification that could not reach the transaction
// coordinator (NETWORK_EXCEPTION) becomes COORDINATOR_LOAD_IN_PROGRESS,
// which every client version retries without looking the coordinator up.
func txnOffsetStoreError(err error) *kerr.Error {
	if storeError(err) == kerr.NetworkException {
		return kerr.CoordinatorLoadInProgress
	}
	return offsetStoreError(err)
}

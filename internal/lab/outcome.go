package lab

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// OutcomeOf classifies a client error: OK without one, Failed only for an answer from
// the broker refusing the request; a timeout, a cut connection, a closed client or
// NOT_LEADER_OR_FOLLOWER leave the request's fate Unknown.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return OK
	}
	// A record that timed out or ran out of retries may have been written by an attempt
	// whose answer never came, whatever the last answer said.
	if errors.Is(err, kgo.ErrRecordTimeout) || errors.Is(err, kgo.ErrRecordRetries) {
		return Unknown
	}
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return Unknown
	}
	switch ke {
	case kerr.NotLeaderForPartition, kerr.RequestTimedOut, kerr.NetworkException,
		kerr.CoordinatorLoadInProgress, kerr.CoordinatorNotAvailable, kerr.NotCoordinator:
		return Unknown
	}
	return Failed
}

// errAborted is a transaction that ended in an abort although its commit was asked for.
var errAborted = kerr.TransactionAbortable

package lab

import (
	"errors"
	"time"

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

// ProducedSend is the Send a kgo produce promise reports: r and err as the promise got
// them, for the producer incarnation's seq-th value, in transaction txn (or NoTxn),
// produced from start until now. The offset is the ack's when err is nil.
func ProducedSend(producer, seq, txn int, start time.Time, r *kgo.Record, err error) Send {
	s := Send{Producer: producer, Value: string(r.Value), Partition: r.Partition, Seq: seq, Txn: txn,
		Outcome: OutcomeOf(err), Offset: -1, Start: start, End: time.Now()}
	if err != nil {
		s.Err = err.Error()
	} else {
		s.Offset = r.Offset
	}
	return s
}

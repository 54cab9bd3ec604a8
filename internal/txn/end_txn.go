package txn

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn (key 26, v0-v4) commits or aborts the producer's Ongoing
// transaction: PrepareCommit or PrepareAbort is persisted, the answer is
// sent, and the markers are then written in the background to every
// partition of the transaction, after which CompleteCommit or CompleteAbort
// is persisted. A retry of the same outcome while the transaction is
// preparing or complete succeeds; the opposite outcome, or ending with no
// transaction (Empty), is INVALID_TXN_STATE. A producer id that is not the
// id's is INVALID_PRODUCER_ID_MAPPING, another epoch PRODUCER_FENCED
// (INVALID_PRODUCER_EPOCH before v2).
//
// Kafka answers a retry that arrives while the markers are still being
// written with CONCURRENT_TRANSACTIONS, which the client retries until the
// transaction is complete; answering success at once tells the client the
// same outcome sooner (the outcome is decided once Prepare* is durable).
//
// v5 (KIP-890 part 2: an epoch bump with every EndTxn) is not implemented
// and answered UNSUPPORTED_VERSION; advertise EndTxn v0-v4, which franz-go
// and the Java client use unless transaction.version >= 2 is finalized.
func (c *Coordinator) EndTxn(ctx context.Context, req *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	resp := kmsg.NewPtrEndTxnResponse()
	resp.Version = req.Version
	if req.Version >= 5 {
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		return resp
	}
	err := c.endTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit)
	resp.ErrorCode = code(fencedForVersion(err, req.Version, 2))
	return resp
}

func (c *Coordinator) endTxn(ctx context.Context, id string, producerID int64, epoch int16, commit bool) *kerr.Error {
	if id == "" {
		return kerr.InvalidRequest
	}
	t, err := c.lockTransaction(id, false)
	switch {
	case err != nil:
		return err
	case t == nil:
		return kerr.InvalidProducerIDMapping
	}
	defer t.mu.Unlock()
	if err := t.m.checkProducer(producerID, epoch); err != nil {
		return err
	}

	committed := t.m.state == statePrepareCommit || t.m.state == stateCompleteCommit
	aborted := t.m.state == statePrepareAbort || t.m.state == stateCompleteAbort
	switch {
	case t.m.state == stateOngoing:
		state := statePrepareAbort
		if commit {
			state = statePrepareCommit
		}
		if err := c.persist(ctx, t, t.m.next(state, c.cfg.Now())); err != nil {
			return err
		}
		c.startCompletion(t)
		return nil
	case committed && commit, aborted && !commit:
		return nil // a retry: the outcome is already decided
	default:
		c.log.Debug("EndTxn in a state that cannot take it", "transactional_id", id,
			"state", t.m.state.String(), "commit", commit)
		return kerr.InvalidTxnState
	}
}

// checkProducer is the producer id and epoch check of EndTxn,
// AddPartitionsToTxn, AddOffsetsToTxn and the KIP-890 verification. An id
// whose first InitProducerId answer was never sent (epoch -1) has no
// producer yet.
func (m metadata) checkProducer(producerID int64, epoch int16) *kerr.Error {
	switch {
	case m.producerID != producerID || m.epoch == noProducerEpoch:
		return kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		return kerr.ProducerFenced
	}
	return nil
}

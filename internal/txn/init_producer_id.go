package txn

import (
	"context"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// producerIDAndEpoch is what a KIP-360 InitProducerId (v3+) says the
// producer currently holds.
type producerIDAndEpoch struct {
	producerID int64
	epoch      int16
}

// InitProducerID (key 22, v0-v5) gives a producer its producer id and epoch,
// as Kafka's TransactionCoordinator.handleInitProducerId:
//
//   - no transactional id: a fresh producer id with epoch 0 (idempotence only);
//   - a new transactional id: a fresh producer id with epoch 0;
//   - an existing one with no open transaction: the epoch bumped, which fences
//     every older producer of the id; once the epoch is exhausted, a fresh
//     producer id with epoch 0;
//   - an Ongoing transaction: it is aborted with a bumped epoch (fencing its
//     producer) and the answer is CONCURRENT_TRANSACTIONS, which clients
//     retry; so is a transaction whose markers are still being written.
//
// KIP-360: a request carrying the producer's current id and epoch bumps that
// epoch; one repeating the previous epoch (a retry whose answer was lost)
// gets the current epoch again; one presenting the producer id that an
// epoch exhaustion replaced gets the new producer id again. Any other
// producer id or epoch is PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v4).
func (c *Coordinator) InitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := kmsg.NewPtrInitProducerIDResponse()
	resp.Version = req.Version
	resp.ProducerID = noProducerID
	resp.ProducerEpoch = noProducerEpoch
	fail := func(err *kerr.Error) *kmsg.InitProducerIDResponse {
		resp.ErrorCode = code(fencedForVersion(err, req.Version, 4))
		return resp
	}

	if req.TransactionalID == nil {
		id, err := c.ids.Next(ctx)
		if err != nil {
			return fail(producerIDError(err))
		}
		resp.ProducerID, resp.ProducerEpoch = id, 0
		return resp
	}
	id := *req.TransactionalID
	if id == "" {
		return fail(kerr.InvalidRequest)
	}
	var expected *producerIDAndEpoch
	if req.Version >= 3 {
		switch {
		case req.ProducerID == noProducerID && req.ProducerEpoch == noProducerEpoch:
		case req.ProducerID == noProducerID || req.ProducerEpoch == noProducerEpoch:
			return fail(kerr.InvalidRequest)
		default:
			expected = &producerIDAndEpoch{req.ProducerID, req.ProducerEpoch}
		}
	}
	timeout := time.Duration(req.TransactionTimeoutMillis) * time.Millisecond
	if req.TransactionTimeoutMillis <= 0 || timeout > c.cfg.MaxTimeout {
		return fail(kerr.InvalidTransactionTimeout)
	}

	t, err := c.lockTransaction(id, true)
	if err != nil {
		return fail(err)
	}
	defer t.mu.Unlock()
	if err := c.initLocked(ctx, t, req.TransactionTimeoutMillis, expected); err != nil {
		return fail(err)
	}
	resp.ProducerID, resp.ProducerEpoch = t.m.producerID, t.m.epoch
	return resp
}

func (c *Coordinator) initLocked(ctx context.Context, t *transaction, timeoutMillis int32, expected *producerIDAndEpoch) *kerr.Error {
	if t.m.producerID == noProducerID {
		// A new transactional id. Like Kafka, the id keeps its producer id
		// in memory even if the first append fails, so a retry reuses it.
		id, err := c.ids.Next(ctx)
		if err != nil {
			c.remove(t)
			return producerIDError(err)
		}
		t.m.producerID = id
	}
	if expected != nil && !t.m.acceptsProducer(*expected) {
		return kerr.ProducerFenced
	}
	switch t.m.state {
	case statePrepareCommit, statePrepareAbort:
		return kerr.ConcurrentTransactions
	case stateOngoing:
		// Abort the open transaction with a bumped epoch; the client retries
		// and gets a second bump (or a new producer id) once it is complete.
		if err := c.fenceLocked(ctx, t); err != nil {
			return err
		}
		return kerr.ConcurrentTransactions
	case stateEmpty, stateCompleteCommit, stateCompleteAbort:
		next, err := c.nextProducer(ctx, t.m, timeoutMillis, expected)
		if err != nil {
			return err
		}
		return c.persist(ctx, t, next)
	default:
		c.log.Error("transaction in a state InitProducerId cannot leave", "transactional_id", t.id, "state", t.m.state.String())
		return kerr.UnknownServerError
	}
}

// acceptsProducer is Kafka's isValidProducerId: a KIP-360 request may
// continue when the id has no epoch yet, when it names the current producer
// id (its epoch is checked next), or when it names the producer id that an
// epoch exhaustion replaced and presents that exhausted epoch.
func (m metadata) acceptsProducer(p producerIDAndEpoch) bool {
	return m.epoch == noProducerEpoch ||
		p.producerID == m.producerID ||
		(p.producerID == m.lastProducerID && epochExhausted(p.epoch))
}

// nextProducer is the Empty state InitProducerId moves an id with no open
// transaction to: the epoch bumped, or a fresh producer id once the epoch is
// exhausted, or unchanged for a KIP-360 retry.
func (c *Coordinator) nextProducer(ctx context.Context, m metadata, timeoutMillis int32, expected *producerIDAndEpoch) (metadata, *kerr.Error) {
	next := m.next(stateEmpty, c.cfg.Now())
	clear(next.partitions)
	next.timeoutMillis = timeoutMillis
	next.startMillis = noTimestamp

	switch {
	case epochExhausted(m.epoch) && (expected == nil || expected.epoch == m.epoch):
		id, err := c.ids.Next(ctx)
		if err != nil {
			return metadata{}, producerIDError(err)
		}
		next.producerID, next.epoch, next.lastEpoch = id, 0, noProducerEpoch
		if expected != nil {
			next.lastEpoch = m.epoch // a retry presents the old id and this epoch
		}
	case expected == nil:
		next.epoch, next.lastEpoch = m.epoch+1, noProducerEpoch
	case m.epoch == noProducerEpoch || expected.epoch == m.epoch:
		next.epoch, next.lastEpoch = m.epoch+1, m.epoch
	case expected.epoch == m.lastEpoch:
		// A retry of a bump whose answer was lost: the same epoch again. A
		// newer producer would have reset lastEpoch, so this cannot unfence.
		next.epoch, next.lastEpoch = m.epoch, m.lastEpoch
	default:
		return metadata{}, kerr.ProducerFenced
	}
	return next, nil
}

// fenceLocked aborts t's Ongoing transaction on the coordinator's own
// initiative (InitProducerId from a newer producer, the transaction timeout,
// AbortProducer): Kafka's PrepareEpochFence. The epoch is bumped, so that
// the producer of the transaction is fenced, and the abort is persisted as
// PrepareAbort with that epoch, whose markers then carry it. Kafka holds
// PrepareEpochFence as a pending, never persisted state between the two
// steps; here both happen under one hold of t.mu, so no request can see it.
// If the append fails nothing changes, and a retry bumps from the same
// epoch again (Kafka's hasFailedEpochFence). Called with t.mu held.
func (c *Coordinator) fenceLocked(ctx context.Context, t *transaction) *kerr.Error {
	next := t.m.next(statePrepareAbort, c.cfg.Now())
	if t.m.epoch < math.MaxInt16 {
		next.epoch = t.m.epoch + 1
	}
	next.lastEpoch = noProducerEpoch
	if err := c.persist(ctx, t, next); err != nil {
		return err
	}
	c.log.Info("fenced producer and aborting its transaction", "transactional_id", t.id,
		"producer_id", t.m.producerID, "epoch", t.m.epoch)
	c.startCompletion(t)
	return nil
}

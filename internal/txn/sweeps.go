package txn

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
)

// abortTimedOut aborts, with an epoch bump that fences their producers,
// transactions Ongoing for longer than their timeout (Kafka's
// abortTimedOutTransactions). The background sweep runs it every
// AbortTimedOutCheckInterval; tests call it after moving the clock.
func (c *Coordinator) abortTimedOut() {
	nowMillis := c.cfg.Now().UnixMilli()
	for _, t := range c.snapshotTransactions() {
		t.mu.Lock()
		if !t.removed && !t.unloaded() && t.m.state == stateOngoing &&
			t.m.startMillis+int64(t.m.timeoutMillis) < nowMillis {
			c.log.Info("aborting timed out transaction", "transactional_id", t.id,
				"producer_id", t.m.producerID, "epoch", t.m.epoch, "timeout_ms", t.m.timeoutMillis)
			ctx, cancel := backgroundContext(t)
			if err := c.fenceLocked(ctx, t); err != nil {
				c.log.Warn("failed to abort timed out transaction; retrying on the next sweep",
					"transactional_id", t.id, "err", err)
			}
			cancel()
		}
		t.mu.Unlock()
	}
}

// removeExpired removes transactional ids with no open transaction whose
// state has not changed for TransactionalIDExpiration: a tombstone is
// written, then the id is forgotten (Kafka's removeExpiredTransactionalIds).
// An Ongoing or preparing transaction is never removed, however old. The
// background sweep runs it every RemoveExpiredCheckInterval.
func (c *Coordinator) removeExpired() {
	cutoff := c.cfg.Now().Add(-c.cfg.TransactionalIDExpiration).UnixMilli()
	for _, t := range c.snapshotTransactions() {
		t.mu.Lock()
		if !t.removed && !t.unloaded() && !t.m.hasOpenTransaction() && t.completion == nil &&
			t.m.updateMillis <= cutoff {
			ctx, cancel := backgroundContext(t)
			if err := c.store.Append(ctx, t.owner.number, []Record{tombstone(t.id)}); err != nil {
				c.log.Warn("failed to remove expired transactional id; retrying on the next sweep",
					"transactional_id", t.id, "err", err)
			} else {
				c.log.Info("removed expired transactional id", "transactional_id", t.id, "producer_id", t.m.producerID)
				c.remove(t)
			}
			cancel()
		}
		t.mu.Unlock()
	}
}

// AbortProducer aborts transactionalID's Ongoing transaction at once, as
// the timeout would: the epoch is bumped (so its producer is fenced) and
// abort markers are written in the background. It is for `waybill txn
// abort`. A transaction already being committed or aborted is left alone
// (nil); no open transaction is INVALID_TXN_STATE; an unknown id
// TRANSACTIONAL_ID_NOT_FOUND; errors are *kerr.Error values.
//
// Kafka's KIP-664 abort of a hanging transaction — one a partition still
// holds open although its coordinator has completed it — does not go through
// the coordinator: the admin client sends WriteTxnMarkers to the partition's
// leader. That belongs in the broker, not here.
func (c *Coordinator) AbortProducer(ctx context.Context, transactionalID string) error {
	if transactionalID == "" {
		return kerr.InvalidRequest
	}
	t, err := c.lockTransaction(transactionalID, false)
	switch {
	case err != nil:
		return err
	case t == nil:
		return kerr.TransactionalIDNotFound
	}
	defer t.mu.Unlock()
	switch {
	case t.m.isPreparing():
		return nil
	case t.m.state != stateOngoing:
		return kerr.InvalidTxnState
	}
	return keError(c.fenceLocked(ctx, t))
}

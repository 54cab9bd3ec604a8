package txn

import (
	"context"
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by Load after Close.
	ErrClosed = errors.New("txn: coordinator closed")
	// ErrUnloaded is returned by Load when Unload ran while it replayed.
	ErrUnloaded = errors.New("txn: partition unloaded while loading")
)

// Load takes over partition of __transaction_state: it replays the
// partition and then serves its transactional ids. Until it returns, their
// requests get COORDINATOR_LOAD_IN_PROGRESS. Each id comes back in its last
// persisted state; a transaction found in PrepareCommit or PrepareAbort has
// its markers written again to every partition it had added, and is then
// completed, as Kafka does; Ongoing ones are left to their timeout. The
// coordinator epoch passed with markers is Config.CoordinatorEpoch(partition)
// as of this call. Load on a partition already loaded or loading is a no-op.
// On a replay error the partition is left unowned and the error returned.
// Load blocks for the replay; the broker may call it on its own goroutine.
func (c *Coordinator) Load(partition int32) error {
	if partition < 0 || partition >= c.cfg.NumPartitions {
		return fmt.Errorf("txn: partition %d outside __transaction_state's %d partitions", partition, c.cfg.NumPartitions)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ps := &partitionState{
		number:           partition,
		coordinatorEpoch: c.cfg.CoordinatorEpoch(partition),
		loading:          true,
		ctx:              ctx,
		cancel:           cancel,
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		cancel()
		return ErrClosed
	case c.partitions[partition] != nil:
		c.mu.Unlock()
		cancel()
		return nil
	}
	c.partitions[partition] = ps
	c.mu.Unlock()

	start := c.cfg.Now()
	replayed := make(map[string]*metadata)
	err := c.store.Replay(partition, func(r Record) error {
		id, m, ok, err := decodeRecord(r)
		switch {
		case err != nil:
			return err
		case !ok:
		case m == nil:
			delete(replayed, id)
		default:
			replayed[id] = m
		}
		return nil
	})

	c.mu.Lock()
	if c.partitions[partition] != ps {
		c.mu.Unlock()
		return ErrUnloaded
	}
	if err != nil {
		delete(c.partitions, partition)
		c.mu.Unlock()
		cancel()
		return fmt.Errorf("txn: loading __transaction_state partition %d: %w", partition, err)
	}
	var preparing []*transaction
	for id, m := range replayed {
		t := &transaction{id: id, owner: ps, m: *m}
		c.txns[id] = t
		if m.isPreparing() {
			preparing = append(preparing, t)
		}
	}
	ps.loading = false
	c.mu.Unlock()

	for _, t := range preparing {
		t.mu.Lock()
		if !t.removed && !t.unloaded() && t.m.isPreparing() && t.completion == nil {
			c.startCompletion(t)
		}
		t.mu.Unlock()
	}
	c.log.Info("loaded __transaction_state partition", "partition", partition,
		"coordinator_epoch", ps.coordinatorEpoch, "transactional_ids", len(replayed),
		"completing", len(preparing), "took", c.cfg.Now().Sub(start))
	return nil
}

// Unload gives up partition: its transactional ids are dropped, their marker
// jobs stop (the next coordinator finishes them), and later requests get
// NOT_COORDINATOR. A request already past its lookup either finishes its
// append (the record is durable; the next coordinator replays it) or gets
// NOT_COORDINATOR. A Load in progress for it is abandoned.
func (c *Coordinator) Unload(partition int32) {
	c.mu.Lock()
	ps := c.partitions[partition]
	delete(c.partitions, partition)
	dropped := 0
	for id, t := range c.txns {
		if t.owner.number == partition {
			delete(c.txns, id)
			dropped++
		}
	}
	c.mu.Unlock()

	if ps == nil {
		return
	}
	ps.cancel()
	c.log.Debug("unloaded __transaction_state partition", "partition", partition, "transactional_ids", dropped)
}

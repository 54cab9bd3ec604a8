package group

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

var (
	// ErrClosed is returned by Load after Close.
	ErrClosed = errors.New("group: coordinator closed")
	// ErrUnloaded is returned by Load when Unload ran while it replayed.
	ErrUnloaded = errors.New("group: partition unloaded while loading")
)

// Load takes over partition of __consumer_offsets: it replays the partition
// and then serves its groups. Until it returns, their requests get
// COORDINATOR_LOAD_IN_PROGRESS. Groups come back as Kafka reloads them:
// Stable with their last persisted generation, members and assignments
// (each member's session restarts now, so members that are gone expire), or
// Empty. Transactional offsets come back pending unless their transaction's
// marker follows them in the log; a CompleteTxn that arrives while the
// partition loads is applied once the replay ends, as the replay may have
// passed the marker's place before it was written. Offsets of topics that
// no longer exist are then deleted (topic_deletion.go). Load on a partition
// already loaded or loading is a no-op. On a replay error the partition is
// left unowned and the error returned.
// Load blocks for the replay; the broker may call it on its own goroutine.
func (c *Coordinator) Load(partition int32) error {
	if partition < 0 || partition >= c.cfg.NumPartitions {
		return fmt.Errorf("group: partition %d outside __consumer_offsets' %d partitions", partition, c.cfg.NumPartitions)
	}
	ps := &partitionState{loading: true}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.partitions[partition] != nil:
		c.mu.Unlock()
		return nil
	}
	c.partitions[partition] = ps
	c.mu.Unlock()

	start := c.cfg.Now()
	rp := newReplay()
	err := c.store.Replay(partition, rp.apply)

	if err := c.install(partition, ps, rp, start, err); err != nil {
		return err
	}
	c.deleteMissingTopicOffsets(partition)
	return nil
}

// install makes the replayed groups of partition live, unless the replay failed (replayErr)
// or an Unload replaced ps meanwhile.
func (c *Coordinator) install(partition int32, ps *partitionState, rp *replay, start time.Time, replayErr error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.partitions[partition] != ps {
		return ErrUnloaded
	}
	if replayErr != nil {
		delete(c.partitions, partition)
		return fmt.Errorf("group: loading __consumer_offsets partition %d: %w", partition, replayErr)
	}
	// Completing a transaction twice is harmless (the second finds nothing
	// pending), so a marker both replayed and reported is fine.
	for _, done := range ps.completedWhileLoading {
		rp.completeTxn(done.producerID, done.commit)
	}
	ps.completedWhileLoading = nil
	now := c.cfg.Now()
	for id, rg := range rp.groups {
		if rg.metadata == nil && rg.offsets.empty() {
			continue // deleted
		}
		c.groups[id] = rg.build(c, id, partition, now, rp.position)
	}
	ps.txnGroups = rp.txnGroups
	ps.loading = false
	c.log.Info("loaded __consumer_offsets partition", "partition", partition,
		"groups", len(rp.groups), "took", now.Sub(start))
	return nil
}

// Unload gives up partition: its groups are dropped, requests parked in
// JoinGroup or SyncGroup get NOT_COORDINATOR, and later requests
// NOT_COORDINATOR. A Load in progress for it is abandoned.
func (c *Coordinator) Unload(partition int32) {
	c.mu.Lock()
	delete(c.partitions, partition)
	var unloaded []*group
	for id, g := range c.groups {
		if g.partition == partition {
			unloaded = append(unloaded, g)
			delete(c.groups, id)
		}
	}
	c.mu.Unlock()

	now := c.cfg.Now()
	for _, g := range unloaded {
		g.mu.Lock()
		for _, m := range g.members {
			g.answerJoin(m, g.joinError(m.id, kerr.NotCoordinator))
			g.answerSync(m, g.syncError(kerr.NotCoordinator))
		}
		g.transition(stateDead, now)
		g.mu.Unlock()
	}
	if len(unloaded) > 0 {
		c.log.Info("unloaded __consumer_offsets partition", "partition", partition, "groups", len(unloaded))
	}
}

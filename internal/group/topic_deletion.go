package group

import (
	"context"
	"time"
)

// Offsets of a deleted topic are deleted with it, as Kafka's group coordinator does
// (GroupCoordinatorShard.onPartitionsDeleted, called by BrokerMetadataPublisher for the
// topics a metadata delta deletes): every group's committed offsets and pending
// transactional offsets of the topic get a tombstone in __consumer_offsets, so
// OffsetFetch no longer lists them, a reload does not bring them back, and a topic
// created again under the same name starts with no committed offsets.
//
// Kafka only cleans the coordinator partitions loaded when the deletion is published.
// Waybill also cleans on load: Load tombstones the offsets of topics that
// Config.TopicExists says are gone, so a partition that was not loaded (a broker that
// was down, or a leadership that moved) drops them as soon as it is (requests served in
// the moment between the load and those tombstones may still see them, for a topic no
// client can read or commit to any more). A topic deleted
// and created again while a partition was not loaded is not seen as deleted there; its
// old offsets stay until they expire, as in Kafka.

// TopicsDeleted deletes, in the background, the offsets of topics in every group of the
// loaded partitions. The broker calls it when a metadata image no longer has topics the
// previous one had. It returns at once: the tombstones are appended like any other
// record, and the metadata apply path that calls it must not wait for that.
//
// Offsets written after the call are kept, since only a topic created again can be
// committed to by then. A partition loading meanwhile checks the topics itself.
func (c *Coordinator) TopicsDeleted(topics []string) {
	c.topicsDeletedAt(topics, c.cfg.Now())
}

// topicsDeletedAt is TopicsDeleted for a deletion seen at deletedAt.
func (c *Coordinator) topicsDeletedAt(topics []string, deletedAt time.Time) {
	if len(topics) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	// Under c.mu, so Close cannot be waiting yet: Close marks closed under it before
	// waiting for the background work.
	c.sweeping.Add(1)
	go func() {
		defer c.sweeping.Done()
		ctx, cancel := context.WithTimeout(context.Background(), backgroundAppendTimeout)
		defer cancel()
		go func() {
			select {
			case <-c.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		names := make(map[string]bool, len(topics))
		for _, t := range topics {
			names[t] = true
		}
		gone := func(tp topicPartition, o committedOffset) bool {
			return names[tp.topic] && !o.committedAt.After(deletedAt)
		}
		for _, g := range c.snapshotGroups() {
			g.mu.Lock()
			g.deleteOffsets(ctx, gone)
			g.mu.Unlock()
		}
	}()
}

// deleteMissingTopicOffsets deletes the offsets of topics that no longer exist from the
// groups of partition, which has just been loaded.
func (c *Coordinator) deleteMissingTopicOffsets(partition int32) {
	if c.cfg.TopicExists == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), backgroundAppendTimeout)
	defer cancel()
	missing := map[string]bool{}
	gone := func(tp topicPartition, _ committedOffset) bool {
		d, ok := missing[tp.topic]
		if !ok {
			d = !c.cfg.TopicExists(tp.topic)
			missing[tp.topic] = d
		}
		return d
	}
	for _, g := range c.snapshotGroups() {
		if g.partition != partition {
			continue
		}
		g.mu.Lock()
		g.deleteOffsets(ctx, gone)
		g.mu.Unlock()
	}
}

// deleteOffsets writes a tombstone for each partition that has a committed or pending
// offset for which gone is true, and none for which it is false, then forgets them. The
// tombstone also drops the partition's pending transactional offsets, so that their
// commit marker cannot bring the offset back (offsetState.remove). On a failed append
// nothing is forgotten: the offsets stay until a reload or expiry deletes them.
func (g *group) deleteOffsets(ctx context.Context, gone func(topicPartition, committedOffset) bool) {
	if g.is(stateDead) {
		return
	}
	verdict := map[topicPartition]bool{}
	judge := func(tp topicPartition, o committedOffset) {
		if d, seen := verdict[tp]; !seen || d {
			verdict[tp] = gone(tp, o)
		}
	}
	for tp, o := range g.offsets.committed {
		judge(tp, o)
	}
	for _, p := range g.offsets.pending {
		for tp, o := range p {
			judge(tp, o)
		}
	}
	var deleted []topicPartition
	var recs []Record
	for tp, d := range verdict {
		if d {
			deleted = append(deleted, tp)
			recs = append(recs, offsetTombstone(g.id, tp))
		}
	}
	if len(recs) == 0 {
		return
	}
	if err := g.c.store.Append(ctx, g.partition, recs); err != nil {
		g.c.log.Warn("failed to delete offsets of deleted topics", "group", g.id, "err", err)
		return
	}
	for _, tp := range deleted {
		g.offsets.remove(tp)
	}
	g.c.log.Info("deleted offsets of deleted topics", "group", g.id, "partitions", len(deleted))
}

package group

import (
	"context"
	"time"
)

// expireOffsets deletes offsets past offsets.retention.minutes, as KIP-211
// defines it: a group with members keeps the offsets of topics its members
// subscribe to; an empty group's offsets expire a retention period after it
// became empty (or after the commit, if later); a group that never had
// members (simple commits) expires each offset a retention period after its
// commit; a stable consumer group's offsets of topics no member subscribes to
// expire by commit time too (KIP-496). An empty group left with no offsets is
// deleted. As in Kafka, an offset with a transactional offset pending for
// its partition does not expire, and a group with any pending transactional
// offset is not deleted: the transaction may still commit them.
func (c *Coordinator) expireOffsets(now time.Time) {
	for _, g := range c.snapshotGroups() {
		g.mu.Lock()
		g.expireOffsets(now)
		g.mu.Unlock()
	}
}

func (g *group) expireOffsets(now time.Time) {
	if g.is(stateDead) {
		return
	}
	retention := g.c.cfg.OffsetsRetention
	var expired []topicPartition
	for tp, o := range g.offsets.committed {
		if g.offsets.hasPending(tp) {
			continue
		}
		base := o.committedAt
		switch {
		case g.is(stateEmpty) && g.protocolType != "":
			base = later(base, g.stateSince)
		case g.is(stateEmpty):
		case g.is(stateStable) && g.protocolType == consumerProtocolType && !g.subscribedTo(tp.topic):
			// KIP-496: offsets of topics a stable consumer group no
			// longer subscribes to expire by their commit time.
		default:
			continue // the group may still consume from here
		}
		if now.Sub(base) >= retention {
			expired = append(expired, tp)
		}
	}
	deleteGroup := g.is(stateEmpty) && len(g.offsets.committed) == len(expired) && len(g.offsets.pending) == 0
	if len(expired) == 0 && !deleteGroup {
		return
	}

	recs := make([]Record, 0, len(expired)+1)
	for _, tp := range expired {
		recs = append(recs, offsetTombstone(g.id, tp))
	}
	if deleteGroup {
		recs = append(recs, groupTombstone(g.id))
	}
	ctx, cancel := context.WithTimeout(context.Background(), backgroundAppendTimeout)
	defer cancel()
	if err := g.c.store.Append(ctx, g.partition, recs); err != nil {
		g.c.log.Warn("failed to expire offsets", "group", g.id, "err", err)
		return
	}
	for _, tp := range expired {
		g.offsets.remove(tp)
	}
	if len(expired) > 0 {
		g.c.log.Info("expired offsets", "group", g.id, "partitions", len(expired))
	}
	if deleteGroup {
		g.transition(stateDead, now)
		g.c.forget(g)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

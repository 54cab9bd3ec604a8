package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups (key 42, v0-v2) deletes empty groups with their offsets:
// tombstones for every offset and for the group metadata are appended, and
// the group is gone once they are durable. A group with members gets
// NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND. Offsets of open
// transactions do not keep an empty group alive: they get tombstones too,
// so the transaction's commit marker finds nothing to materialise, now or on
// a replay (Kafka's deleteAllOffsets does the same).
func (c *Coordinator) DeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := kmsg.NewPtrDeleteGroupsResponse()
	resp.Version = req.Version
	for _, id := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = id
		if err := c.deleteGroup(ctx, id); err != nil {
			rg.ErrorCode = err.Code
			rg.ErrorMessage = stringPtr(err.Description)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(ctx context.Context, id string) *kerr.Error {
	g, err := c.lookup(id, false)
	if err != nil {
		return err
	}
	if g == nil {
		return kerr.GroupIDNotFound
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	now := c.cfg.Now()
	g.fireDeadlines(now)
	switch g.state {
	case stateDead:
		return kerr.GroupIDNotFound
	case stateEmpty:
	default:
		return kerr.NonEmptyGroup
	}

	pending := g.offsets.pendingPartitions()
	recs := make([]Record, 0, len(g.offsets.committed)+len(pending)+1)
	for tp := range g.offsets.committed {
		recs = append(recs, offsetTombstone(g.id, tp))
	}
	for _, tp := range pending {
		if _, ok := g.offsets.committed[tp]; !ok {
			recs = append(recs, offsetTombstone(g.id, tp))
		}
	}
	recs = append(recs, groupTombstone(g.id))
	if err := c.store.Append(ctx, g.partition, recs); err != nil {
		c.log.Warn("failed to delete group", "group", g.id, "err", err)
		return groupStoreError(err)
	}
	g.offsets = newOffsetState()
	g.transition(stateDead, now)
	c.forget(g)
	return nil
}

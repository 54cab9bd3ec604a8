package group

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const consumerProtocolType = "consumer"

// OffsetDelete (key 47, v0) deletes a group's committed offsets for some
// partitions. An empty group may delete any; a consumer group with members
// may delete those of topics no member subscribes to, and gets
// GROUP_SUBSCRIBED_TO_TOPIC for the others; any other group with members
// gets NON_EMPTY_GROUP. A partition's pending transactional offsets are
// deleted with it, as in Kafka: the tombstone also stops the transaction's
// commit marker from bringing the offset back.
func (c *Coordinator) OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := kmsg.NewPtrOffsetDeleteResponse()
	resp.Version = req.Version
	groupErr, partitionErrs := c.offsetDelete(ctx, req)
	resp.ErrorCode = code(groupErr)
	if groupErr != nil {
		return resp
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = code(partitionErrs[topicPartition{t.Topic, p.Partition}])
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (c *Coordinator) offsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) (*kerr.Error, map[topicPartition]*kerr.Error) {
	if req.Group == "" {
		return kerr.InvalidGroupID, nil
	}
	g, err := c.lookup(req.Group, false)
	if err != nil {
		return err, nil
	}
	if g == nil {
		return kerr.GroupIDNotFound, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	g.fireDeadlines(c.cfg.Now())
	errs := make(map[topicPartition]*kerr.Error)
	var eligible []topicPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := topicPartition{t.Topic, p.Partition}
			switch {
			case g.is(stateDead):
				return kerr.GroupIDNotFound, nil
			case g.is(stateEmpty):
				eligible = append(eligible, tp)
			case g.protocolType != consumerProtocolType:
				return kerr.NonEmptyGroup, nil
			case g.subscribedTo(t.Topic):
				errs[tp] = kerr.GroupSubscribedToTopic
			default:
				eligible = append(eligible, tp)
			}
		}
	}

	var recs []Record
	var deleted []topicPartition
	for _, tp := range eligible {
		_, committed := g.offsets.committed[tp]
		if (committed || g.offsets.hasPending(tp)) && !slices.Contains(deleted, tp) {
			deleted = append(deleted, tp)
			recs = append(recs, offsetTombstone(g.id, tp))
		}
	}
	if len(recs) > 0 {
		if err := c.store.Append(ctx, g.partition, recs); err != nil {
			c.log.Warn("failed to delete offsets", "group", g.id, "err", err)
			storeErr := offsetStoreError(err)
			for _, tp := range eligible {
				errs[tp] = storeErr
			}
			return nil, errs
		}
	}
	for _, tp := range deleted {
		g.offsets.remove(tp)
	}
	return nil, errs
}

// subscribedTo reports whether any member's consumer subscription includes
// topic. Metadata that does not decode counts as subscribed, so offsets are
// never deleted from under a member whose subscription is unknown.
func (g *group) subscribedTo(topic string) bool {
	for _, m := range g.members {
		for _, p := range m.protocols {
			if g.protocol != "" && p.name != g.protocol {
				continue
			}
			var sub kmsg.ConsumerMemberMetadata
			if err := sub.ReadFrom(p.metadata); err != nil {
				return true
			}
			if slices.Contains(sub.Topics, topic) {
				return true
			}
		}
	}
	return false
}

package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit (key 28, v0-v4) stores offsets as part of a transaction
// (KIP-98): they are appended as a transactional batch of the request's
// producer and stay pending, invisible to OffsetFetch, until CompleteTxn
// reports the transaction's marker on the group's partition.
//
// v3+ carries the member's generation, member id and instance id (KIP-447),
// checked as OffsetCommit checks them, except that commits are accepted
// while the group completes a rebalance and from senders that give no
// member id (v0-v2 cannot), as Kafka does; member sessions are not
// refreshed. A group that does not exist is created for a commit with
// generation -1 and refused with ILLEGAL_GENERATION otherwise.
//
// v5+ (KIP-890 part 2: the commit itself adds the partition to the
// transaction) and v6+ topic ids need the transaction coordinator's help;
// they are answered UNSUPPORTED_VERSION and must not be advertised.
func (c *Coordinator) TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := kmsg.NewPtrTxnOffsetCommitResponse()
	resp.Version = req.Version
	errs := c.txnOffsetCommit(ctx, req)
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		rt.TopicID = t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = code(errs(topicPartition{t.Topic, p.Partition}))
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// txnOffsetCommit returns the error for each committed partition.
func (c *Coordinator) txnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) func(topicPartition) *kerr.Error {
	if req.Version >= 5 {
		return everyPartition(kerr.UnsupportedVersion)
	}
	if req.Group == "" {
		return everyPartition(kerr.InvalidGroupID)
	}
	generation, memberID, instanceID := int32(-1), "", ""
	if req.Version >= 3 {
		generation, memberID = req.Generation, req.MemberID
		if req.InstanceID != nil {
			instanceID = *req.InstanceID
		}
	}

	g, err := c.lookup(req.Group, generation < 0)
	if err != nil {
		return everyPartition(err)
	}
	if g == nil {
		return everyPartition(kerr.IllegalGeneration)
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	now := c.cfg.Now()
	g.fireDeadlines(now)
	if err := g.validateCommit(generation, memberID, instanceID, true); err != nil {
		return everyPartition(err)
	}

	var parts []commitPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			parts = append(parts, commitPartition{topicPartition{t.Topic, p.Partition}, p.Offset, p.LeaderEpoch, p.Metadata})
		}
	}
	errs, staged, recs := c.offsetRecords(g, parts, req.Version >= 2, now)
	if len(recs) == 0 {
		return errsByPartition(errs)
	}

	c.watchTxn(g, req.ProducerID)
	if err := c.store.AppendTxn(ctx, g.partition, req.ProducerID, req.ProducerEpoch, recs); err != nil {
		c.log.Warn("failed to persist transactional offsets", "group", g.id,
			"transactional_id", req.TransactionalID, "producer_id", req.ProducerID, "err", err)
		storeErr := txnOffsetStoreError(err)
		for tp := range staged {
			errs[tp] = storeErr
		}
		g.forgetIfUnused()
		return errsByPartition(errs)
	}
	order := g.nextLogOrder()
	for tp, o := range staged {
		o.logOrder = order
		g.offsets.stage(req.ProducerID, tp, o)
	}
	return errsByPartition(errs)
}

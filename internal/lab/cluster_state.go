package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
)

// requestTimeout bounds each of the lab's own requests to a node.
const requestTimeout = 2 * time.Second

// partitions asks node via for topic's partitions, by index.
func (t *ReplicatedTarget) partitions(ctx context.Context, via int32, topic string) ([]faults.PartitionState, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return faults.AskPartitions(ctx, t.peer(via), via, topic)
}

// controller asks node via which node is the active controller.
func (t *ReplicatedTarget) controller(ctx context.Context, via int32) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return faults.AskController(ctx, t.peer(via), via)
}

// awaitPartition asks node via for partition p of topic until cond accepts it, within
// limit, and returns it; the error says what the partition last looked like.
func (t *ReplicatedTarget) awaitPartition(ctx context.Context, via int32, topic string, p int32, limit time.Duration, what string, cond func(faults.PartitionState) bool) (faults.PartitionState, error) {
	var last faults.PartitionState
	err := await(ctx, limit, what, func() error {
		states, err := t.partitions(ctx, via, topic)
		switch {
		case err != nil:
			return err
		case int(p) >= len(states):
			return fmt.Errorf("node %d knows %d partitions of %s", via, len(states), topic)
		}
		last = states[p]
		if !cond(last) {
			return fmt.Errorf("node %d shows leader %d, ISR %v", via, last.Leader, last.ISR)
		}
		return nil
	})
	return last, err
}

// awaitAllInSync waits, within limit, until node via shows every partition of topic led
// and with all its replicas in the ISR.
func (t *ReplicatedTarget) awaitAllInSync(ctx context.Context, via int32, topic string, limit time.Duration) error {
	return await(ctx, limit, topic+" fully in sync", func() error {
		states, err := t.partitions(ctx, via, topic)
		if err == nil && !fullyInSync(states) {
			err = fmt.Errorf("node %d shows %v", via, states)
		}
		return err
	})
}

// await calls check every 20 ms until it returns nil, within limit; the error is what
// check said last.
func await(ctx context.Context, limit time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: not within %v: %w", what, limit, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func fullyInSync(states []faults.PartitionState) bool {
	for _, s := range states {
		if s.Leader < 0 || len(s.ISR) != len(s.Replicas) {
			return false
		}
	}
	return len(states) > 0
}

// awaitCommitted waits, within limit, until every partition of topic has a leader whose
// high watermark reached its log end: everything the cluster holds is committed, so that
// a final read to the high watermark sees it all. A new leader's high watermark lags its
// log until its followers fetch again, and a partition just created waits for its
// followers' first fetch: a read before then would take values on their way for lost.
func (t *ReplicatedTarget) awaitCommitted(ctx context.Context, topic string, limit time.Duration) error {
	return await(ctx, limit, topic+" committed to its log ends", func() error {
		var states []faults.PartitionState
		var err error
		for _, via := range t.Nodes() {
			if states, err = t.partitions(ctx, via, topic); err == nil {
				break
			}
		}
		if err != nil {
			return err
		}
		for _, s := range states {
			if s.Leader < 0 {
				return fmt.Errorf("partition %d has no leader", s.Partition)
			}
			hw, end, err := t.highWatermarkAndEnd(ctx, topic, s)
			if err != nil {
				return err
			}
			if hw < end {
				return fmt.Errorf("partition %d: high watermark %d below the log end %d", s.Partition, hw, end)
			}
		}
		return nil
	})
}

// highWatermarkAndEnd asks partition s's leader for its high watermark (ListOffsets,
// latest) and its log end (OffsetForLeaderEpoch for the current epoch, which answers the
// leader's log end).
func (t *ReplicatedTarget) highWatermarkAndEnd(ctx context.Context, topic string, s faults.PartitionState) (hw, end int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	leader := t.peer(s.Leader)
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.ReplicaID = -1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	lp := kmsg.NewListOffsetsRequestTopicPartition()
	lp.Partition, lp.CurrentLeaderEpoch, lp.Timestamp = s.Partition, s.LeaderEpoch, -1
	lt.Partitions = append(lt.Partitions, lp)
	lo.Topics = append(lo.Topics, lt)
	resp, err := leader.Request(ctx, lo)
	if err != nil {
		return 0, 0, err
	}
	lr := resp.(*kmsg.ListOffsetsResponse)
	if len(lr.Topics) != 1 || len(lr.Topics[0].Partitions) != 1 {
		return 0, 0, fmt.Errorf("ListOffsets from node %d: a malformed answer", s.Leader)
	}
	if err := kerr.ErrorForCode(lr.Topics[0].Partitions[0].ErrorCode); err != nil {
		return 0, 0, fmt.Errorf("ListOffsets from node %d: %w", s.Leader, err)
	}
	hw = lr.Topics[0].Partitions[0].Offset
	oe := kmsg.NewPtrOffsetForLeaderEpochRequest()
	oe.ReplicaID = -1
	ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
	ot.Topic = topic
	op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	op.Partition, op.CurrentLeaderEpoch, op.LeaderEpoch = s.Partition, s.LeaderEpoch, s.LeaderEpoch
	ot.Partitions = append(ot.Partitions, op)
	oe.Topics = append(oe.Topics, ot)
	resp, err = leader.Request(ctx, oe)
	if err != nil {
		return 0, 0, err
	}
	or := resp.(*kmsg.OffsetForLeaderEpochResponse)
	if len(or.Topics) != 1 || len(or.Topics[0].Partitions) != 1 {
		return 0, 0, fmt.Errorf("OffsetForLeaderEpoch from node %d: a malformed answer", s.Leader)
	}
	if err := kerr.ErrorForCode(or.Topics[0].Partitions[0].ErrorCode); err != nil {
		return 0, 0, fmt.Errorf("OffsetForLeaderEpoch from node %d: %w", s.Leader, err)
	}
	return hw, or.Topics[0].Partitions[0].EndOffset, nil
}

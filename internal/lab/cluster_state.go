package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/clientopt"
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
// The log end is what OffsetForLeaderEpoch answers for the current epoch; a cluster that
// does not answer it is not waited for.
func awaitCommitted(ctx context.Context, bootstrap, topic string, limit time.Duration) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(clientopt.List(bootstrap)...), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return await(ctx, limit, topic+" committed to its log ends", func() error {
		md, err := adm.Metadata(ctx, topic)
		if err != nil {
			return err
		}
		hws, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return err
		}
		var req kadm.OffsetForLeaderEpochRequest
		for _, p := range md.Topics[topic].Partitions {
			if p.Leader < 0 {
				return fmt.Errorf("partition %d has no leader", p.Partition)
			}
			req.Add(topic, p.Partition, p.LeaderEpoch)
		}
		ends, err := adm.OffsetForLeaderEpoch(ctx, req)
		if err != nil {
			return nil // cannot tell
		}
		for _, e := range ends[topic] {
			if e.Err != nil {
				return e.Err
			}
			hw, ok := hws.Lookup(topic, e.Partition)
			if !ok || hw.Err != nil {
				return fmt.Errorf("partition %d: no high watermark (%v)", e.Partition, hw.Err)
			}
			if hw.Offset < e.EndOffset {
				return fmt.Errorf("partition %d: high watermark %d below the log end %d", e.Partition, hw.Offset, e.EndOffset)
			}
		}
		return nil
	})
}

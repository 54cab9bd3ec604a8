package testbroker

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/partition"
)

// VerifyReplicas checks, as Kafka's ReplicaVerificationTool does, that every replica of
// each of topic's partitions on the running nodes holds the same batches (offset, epoch
// and CRC) up to the leader's high watermark. Call it once writes have stopped: it waits,
// within ctx, until the partition has settled (the leader's high watermark at its log
// end, every replica there); a difference in what they hold fails at once.
func VerifyReplicas(ctx context.Context, t testing.TB, nodes []*Broker, topic string, partitions int32) {
	t.Helper()
	verifyReplicas(ctx, t, func() map[int32]*broker.Broker {
		running := map[int32]*broker.Broker{}
		for _, n := range nodes {
			if n.running {
				running[n.NodeID()] = n.Broker
			}
		}
		return running
	}, topic, partitions)
}

// VerifyClusterReplicas is VerifyReplicas for an in-process faults.Cluster.
func VerifyClusterReplicas(ctx context.Context, t testing.TB, c *faults.Cluster, topic string, partitions int32) {
	t.Helper()
	verifyReplicas(ctx, t, func() map[int32]*broker.Broker {
		running := map[int32]*broker.Broker{}
		for _, n := range c.Nodes() {
			if b := n.Broker(); b != nil {
				running[n.ID()] = b
			}
		}
		return running
	}, topic, partitions)
}

func verifyReplicas(ctx context.Context, t testing.TB, running func() map[int32]*broker.Broker, topic string, partitions int32) {
	t.Helper()
	for i := range partitions {
		for {
			err, final := compareReplicas(running(), topic, i)
			if err == nil {
				break
			}
			if final {
				t.Fatal(err)
			}
			select {
			case <-ctx.Done():
				t.Fatalf("replicas of %s-%d never agreed: %v", topic, i, err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// compareReplicas compares the replicas of one partition; final marks a difference that
// waiting cannot mend.
func compareReplicas(brokers map[int32]*broker.Broker, topic string, index int32) (err error, final bool) {
	var leader *partition.Partition
	var replicas []*partition.Partition
	var ids []int32
	for id, b := range brokers {
		p := b.Replica(topic, index)
		if p == nil {
			continue
		}
		replicas, ids = append(replicas, p), append(ids, id)
		if l := p.Leadership(); l.Leader == id {
			leader = p
		}
	}
	if leader == nil {
		return fmt.Errorf("%s-%d has no running leader among %v", topic, index, ids), false
	}
	hw := leader.HighWatermark()
	if end := leader.Log().EndOffset(); hw < end {
		return fmt.Errorf("%s-%d: the leader's high watermark %d is below its log end %d", topic, index, hw, end), false
	}
	want, err := leader.Batches(hw)
	if err != nil {
		return err, false
	}
	for k, p := range replicas {
		if p.Log().EndOffset() < hw {
			return fmt.Errorf("replica on %d ends at %d, below the high watermark %d", ids[k], p.Log().EndOffset(), hw), false
		}
		got, err := p.Batches(hw)
		if err != nil {
			return err, false
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s-%d: replica on %d differs from the leader's below the high watermark %d:\n got %v\nwant %v",
				topic, index, ids[k], hw, got, want), true
		}
	}
	return nil, false
}

package replication_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// isolateLeaderAndProduce runs the scenario that separates acks=1 from acks=all: the
// leader of a partition with three in-sync replicas is cut off from its followers and
// from the controller, while a producer that still reaches it writes with acks; the
// controller fences it and elects a follower; the old leader is then killed and comes
// back as a follower. It returns what the producer had acknowledged in all and what a
// consumer reads at the end.
func isolateLeaderAndProduce(t *testing.T, acks kgo.Acks) (acked []string, read map[string]int, c *faults.Cluster) {
	c = startCluster(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	seeds := c.Seeds()
	const topic = "isolated"
	admin := client(t, seeds)
	createTopic(ctx, t, admin, topic, 1, 3, map[string]string{"min.insync.replicas": "2"})
	before := waitForPartition(ctx, t, c.Node(1), topic, "with 3 in sync", func(v partitionView) bool { return v.leader > 0 && len(v.isr) == 3 })

	all := client(t, seeds, manualPartitioner(), kgo.RequiredAcks(kgo.AllISRAcks()))
	ok, errs := produce(ctx, all, topic, 0, 100)
	if len(errs) > 0 {
		t.Fatalf("producing before the fault: %v", errs[0])
	}
	acked = append(acked, ok...)

	leader := c.Node(before.leader)
	leader.Isolate()
	// A producer that knows only the old leader keeps writing to it. It is not
	// idempotent, so that its delivery timeout can give up on records in flight (an
	// idempotent producer must learn their fate first), which bounds this phase.
	stale := client(t, []string{leader.Addr()}, manualPartitioner(), kgo.RequiredAcks(acks), kgo.DisableIdempotentWrite(),
		kgo.ProduceRequestTimeout(2*time.Second), kgo.RecordDeliveryTimeout(3*time.Second), kgo.MetadataMinAge(time.Minute))
	ok, _ = produce(ctx, stale, topic, 100, 150)
	acked = append(acked, ok...)

	var other *faults.ClusterNode
	for _, n := range c.Nodes() {
		if n != leader {
			other = n
			break
		}
	}
	after := waitForPartition(ctx, t, other, topic, "led by a follower of the isolated leader", func(v partitionView) bool {
		return v.leader > 0 && v.leader != leader.ID()
	})
	if after.epoch <= before.epoch {
		t.Fatalf("new leader %d at epoch %d, not past %d", after.leader, after.epoch, before.epoch)
	}
	leader.Kill()
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	waitForPartition(ctx, t, other, topic, "with 3 in sync again", func(v partitionView) bool { return len(v.isr) == 3 })
	testbroker.VerifyClusterReplicas(ctx, t, c, topic, 1)
	return acked, readAll(ctx, t, seeds, topic), c
}

// acks=1 is written on the leader only when it is acknowledged: a leader cut off from
// its followers keeps acknowledging, and what it acknowledged alone is gone once a
// follower has taken over and the old leader has followed it (truncated by leader
// epoch). This is the weakness acks=1 promises, observed.
func TestAcksOneLosesWhatAnIsolatedLeaderAcknowledged(t *testing.T) {
	acked, read, c := isolateLeaderAndProduce(t, kgo.LeaderAck())
	lost := missing(acked, read)
	if len(lost) == 0 {
		t.Fatalf("acks=1: all %d acknowledged values survived the isolated leader; expected the ones it acknowledged alone to be lost", len(acked))
	}
	for _, v := range lost {
		if slices.Contains([]string{"0", "50", "99"}, v) {
			dumpReplicas(t, c, "isolated")
			t.Fatalf("acks=1: value %s, acknowledged by every in-sync replica before the fault, is lost", v)
		}
	}
	t.Logf("acks=1: %d acknowledged, %d of them lost with the isolated leader", len(acked), len(lost))
}

// acks=all waits for every in-sync replica: the isolated leader cannot get its followers'
// copies, so it acknowledges nothing, and nothing acknowledged is lost.
func TestAcksAllLosesNothingWhenTheLeaderIsIsolated(t *testing.T) {
	acked, read, _ := isolateLeaderAndProduce(t, kgo.AllISRAcks())
	if lost := missing(acked, read); len(lost) > 0 {
		t.Fatalf("acks=all: %d of %d acknowledged values lost: %v", len(lost), len(acked), lost)
	}
	t.Logf("acks=all: %d acknowledged, none lost", len(acked))
}

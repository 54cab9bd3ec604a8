package replication_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// followersOf are the nodes that replicate partition 0 of topic without leading it.
func followersOf(c *faults.Cluster, v partitionView) []*faults.ClusterNode {
	var out []*faults.ClusterNode
	for _, n := range c.Nodes() {
		if n.ID() != v.leader {
			out = append(out, n)
		}
	}
	return out
}

// min.insync.replicas=2 with two of three brokers down: acks=all is refused before the
// append (NOT_ENOUGH_REPLICAS), acks=1 is accepted by the leader alone, and when the
// brokers return every acknowledged record is there.
func TestMinInsyncReplicasWithTwoOfThreeDown(t *testing.T) {
	c := startCluster(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	seeds := c.Seeds()
	const topic = "min-isr"
	createTopic(ctx, t, client(t, seeds), topic, 1, 3, map[string]string{"min.insync.replicas": "2"})
	v := waitForPartition(ctx, t, c.Node(1), topic, "with 3 in sync", func(v partitionView) bool { return v.leader > 0 && len(v.isr) == 3 })
	acked, errs := produce(ctx, client(t, seeds, manualPartitioner()), topic, 0, 50)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}

	// Controlled shutdowns, one after the other: each takes its broker out of the ISR
	// while the quorum can still commit it.
	leader := c.Node(v.leader)
	for _, f := range followersOf(c, v) {
		f.Stop()
	}
	waitForPartition(ctx, t, leader, topic, "with its leader alone in sync", func(v partitionView) bool { return len(v.isr) == 1 })

	only := []string{leader.Addr()}
	// Not idempotent: a new producer id needs the controller, which two of three voters
	// down cannot elect.
	all := client(t, only, manualPartitioner(), kgo.RecordRetries(0), kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.AllISRAcks()))
	if _, errs := produce(ctx, all, topic, 50, 51); len(errs) != 1 || !errors.Is(errs[0], kerr.NotEnoughReplicas) {
		t.Fatalf("acks=all with 1 of 3 in sync and min.insync.replicas=2: %v, want NOT_ENOUGH_REPLICAS", errs)
	}
	one := client(t, only, manualPartitioner(), kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.LeaderAck()))
	ok, errs := produce(ctx, one, topic, 51, 81)
	if len(errs) > 0 {
		t.Fatalf("acks=1 with 1 of 3 in sync: %v", errs[0])
	}
	acked = append(acked, ok...)

	for _, f := range followersOf(c, v) {
		if err := f.Start(); err != nil {
			t.Fatal(err)
		}
	}
	waitForPartition(ctx, t, leader, topic, "with 3 in sync again", func(v partitionView) bool { return len(v.isr) == 3 })
	testbroker.VerifyClusterReplicas(ctx, t, c, topic, 1)
	if lost := missing(acked, readAll(ctx, t, seeds, topic)); len(lost) > 0 {
		t.Fatalf("%d acknowledged values lost: %v", len(lost), lost)
	}
}

// KIP-101's case: a follower restarts and rejoins the ISR, and the leader dies before
// the follower has relearnt the high watermark. The follower, now leader, keeps its log
// (it truncates only where a leader's epochs say it diverges, never to its high
// watermark), so nothing acknowledged is lost, and the old leader, back as a follower,
// ends up with the same batches.
func TestFollowerRestartThenLeaderCrashLosesNothing(t *testing.T) {
	c := startCluster(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	seeds := c.Seeds()
	const topic = "kip101"
	createTopic(ctx, t, client(t, seeds), topic, 1, 3, map[string]string{"min.insync.replicas": "2"})
	v := waitForPartition(ctx, t, c.Node(1), topic, "with 3 in sync", func(v partitionView) bool { return v.leader > 0 && len(v.isr) == 3 })
	producer := client(t, seeds, manualPartitioner())
	acked, errs := produce(ctx, producer, topic, 0, 200)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	leader := c.Node(v.leader)
	follower := followersOf(c, v)[0]
	if err := follower.Crash(); err != nil {
		t.Fatal(err)
	}
	waitForPartition(ctx, t, leader, topic, "with the restarted follower back in sync", func(v partitionView) bool { return len(v.isr) == 3 })
	leader.Kill()
	after := waitForPartition(ctx, t, follower, topic, "led by another broker", func(v partitionView) bool { return v.leader > 0 && v.leader != leader.ID() })
	more, errs := produce(ctx, producer, topic, 200, 250)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	acked = append(acked, more...)
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	waitForPartition(ctx, t, c.Node(after.leader), topic, "with 3 in sync again", func(v partitionView) bool { return len(v.isr) == 3 })
	testbroker.VerifyClusterReplicas(ctx, t, c, topic, 1)
	if lost := missing(acked, readAll(ctx, t, seeds, topic)); len(lost) > 0 {
		t.Fatalf("%d acknowledged values lost: %v", len(lost), lost)
	}
}

// With durable acks, an acks=all acknowledgement means every in-sync replica fsynced the
// record, so a power loss of every node at once, while a producer writes, loses nothing
// acknowledged.
func TestPowerLossOfEveryNodeKeepsAcksAll(t *testing.T) {
	c := startCluster(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	seeds := c.Seeds()
	const topic, partitions = "power", 3
	createTopic(ctx, t, client(t, seeds), topic, partitions, 3, map[string]string{"min.insync.replicas": "2"})
	waitForPartition(ctx, t, c.Node(1), topic, "with 3 in sync", func(v partitionView) bool { return v.leader > 0 && len(v.isr) == 3 })

	producer := client(t, seeds, kgo.RequiredAcks(kgo.AllISRAcks()))
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	produceUntil := func(n int, from int) int {
		for i := from; ; i++ {
			mu.Lock()
			done := len(acked) >= n
			mu.Unlock()
			if done || ctx.Err() != nil {
				return i
			}
			v := fmt.Sprint(i)
			wg.Add(1)
			producer.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}, func(_ *kgo.Record, err error) {
				defer wg.Done()
				if err == nil {
					mu.Lock()
					acked = append(acked, v)
					mu.Unlock()
				}
			})
			if i%50 == 0 {
				producer.Flush(ctx)
			}
		}
	}
	next := produceUntil(500, 0)
	if err := c.PowerLossAll(); err != nil {
		t.Fatal(err)
	}
	produceUntil(1000, next)
	wg.Wait()
	testbroker.VerifyClusterReplicas(ctx, t, c, topic, partitions)
	mu.Lock()
	defer mu.Unlock()
	if lost := missing(acked, testbroker.CountValues(t, seeds[0], topic)); len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged values lost in the power loss: %v", len(lost), len(acked), lost[:min(len(lost), 20)])
	}
	t.Logf("%d acknowledged, none lost", len(acked))
}

// createAssigned creates topic with one partition on the given replicas.
func createAssigned(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, replicas []int32, configs map[string]string) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	a.Partition, a.Replicas = 0, replicas
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("creating %s on %v: %v", topic, replicas, err)
	}
}

// unclean.leader.election.enable=true: when the only in-sync replica dies, an
// out-of-sync replica takes over, and what only the old leader had is lost — the
// weakness that setting accepts, observed. The old leader comes back as a follower and
// is cut to the new leader's log.
func TestUncleanElectionLosesWhatTheOldISRHad(t *testing.T) {
	c := startCluster(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	seeds := c.Seeds()
	const topic = "unclean"
	// Node 3 holds no replica: it keeps the metadata quorum at two of three voters.
	createAssigned(ctx, t, client(t, seeds), topic, []int32{1, 2}, map[string]string{"unclean.leader.election.enable": "true"})
	waitForPartition(ctx, t, c.Node(3), topic, "led by 1 with 2 in sync", func(v partitionView) bool { return v.leader == 1 && len(v.isr) == 2 })
	producer := client(t, seeds, manualPartitioner())
	before, errs := produce(ctx, producer, topic, 0, 20)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	c.Node(2).Stop()
	waitForPartition(ctx, t, c.Node(3), topic, "with 1 alone in sync", func(v partitionView) bool { return slices.Equal(v.isr, []int32{1}) })
	alone, errs := produce(ctx, producer, topic, 20, 50)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	// With 2 stopped and 1 dead the quorum has one voter of three: nothing changes until
	// 2 is back, fenced 1 is the last in sync, and 2 is the only replica alive.
	c.Node(1).Kill()
	if err := c.Node(2).Start(); err != nil {
		t.Fatal(err)
	}
	waitForPartition(ctx, t, c.Node(3), topic, "led by 2, out of sync, after an unclean election", func(v partitionView) bool { return v.leader == 2 })
	if err := c.Node(1).Start(); err != nil {
		t.Fatal(err)
	}
	waitForPartition(ctx, t, c.Node(3), topic, "with 2 in sync again", func(v partitionView) bool { return len(v.isr) == 2 })
	testbroker.VerifyClusterReplicas(ctx, t, c, topic, 1)
	read := readAll(ctx, t, seeds, topic)
	if lost := missing(before, read); len(lost) > 0 {
		t.Fatalf("values the out-of-sync replica had were lost too: %v", lost)
	}
	if lost := missing(alone, read); len(lost) != len(alone) {
		t.Fatalf("%d of the %d values only the old leader had survived the unclean election; expected all lost", len(alone)-len(lost), len(alone))
	}
}

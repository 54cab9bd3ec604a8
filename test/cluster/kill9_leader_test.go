package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestKill9LeaderRepeatedlyKeepsEveryAck kills the leader of partition 0 with SIGKILL five
// times while one idempotent acks=all producer (retrying without limit) writes unique
// values round-robin to three partitions of replication factor 3 with
// min.insync.replicas=2. Each cycle waits for more acks, kills the leader the metadata
// names, waits until the survivors agree on a new leader, restarts the killed node on its
// data directory and waits until it is back in every ISR. The final read, judged by the
// lab's checker, must hold every acknowledged value exactly once and in each producer's
// order, and the replicas' logs must be identical batch by batch up to the high
// watermark.
func TestKill9LeaderRepeatedlyKeepsEveryAck(t *testing.T) {
	const (
		topic        = "kill9-leader"
		partitions   = 3
		cycles       = 5
		acksPerCycle = 2000
	)
	pc := testbroker.StartProcessCluster(t, waybillBinary, 3, testbroker.ProcessClusterOptions{})
	createReplicatedTopic(t, pc, topic, partitions)
	producer := startClusterProducer(t, pc.Addrs(), topic, partitions, "k9")

	killed := map[int32]int{}
	for cycle := 1; cycle <= cycles; cycle++ {
		producer.waitAcked(t, producer.acked.Load()+acksPerCycle, rejoinTimeout)
		before := pc.WaitPartitions(topic, rejoinTimeout, "every partition fully in sync", pc.FullyInSync)
		leader := before[0].Leader
		start := time.Now()
		pc.Kill(leader)
		killed[leader]++
		after := pc.WaitPartitions(topic, failoverTimeout, "a new leader of partition 0 after the kill of its leader", func(s []testbroker.PartitionState) bool {
			return s[0].Leader >= 0 && s[0].Leader != leader && s[0].LeaderEpoch > before[0].LeaderEpoch
		})
		failover := time.Since(start)
		pc.Restart(leader)
		pc.WaitPartitions(topic, rejoinTimeout, "the restarted node back in every ISR", pc.FullyInSync)
		t.Logf("cycle %d: killed node %d, leader of %s-0 at epoch %d, with %d acks; node %d leads at epoch %d after %v; node %d back in sync after %v",
			cycle, leader, topic, before[0].LeaderEpoch, producer.acked.Load(), after[0].Leader, after[0].LeaderEpoch,
			failover.Round(time.Millisecond), leader, time.Since(start).Round(time.Millisecond))
	}
	producer.waitAcked(t, producer.acked.Load()+acksPerCycle, rejoinTimeout)
	producer.stop(t, flushTimeout)

	res := readBackAndCheck(t, producer.rec, pc)
	t.Logf("kills by node %v; sent %d, acked %d, failed %d, unknown %d, found %d distinct",
		killed, res.Sent, res.Acked, res.Failed, res.Unknown, res.Stored)
	assertEveryAckOnce(t, res)
	if errs := producer.errors(); len(errs) > 0 {
		t.Errorf("%d produces failed although the producer retries without limit, e.g. %v", len(errs), firstFew(errs))
	}
	compareReplicas(t, pc, topic)
}

// createReplicatedTopic creates topic with three replicas per partition and
// min.insync.replicas=2, and waits until every partition has a leader and a full ISR.
func createReplicatedTopic(t *testing.T, pc *testbroker.ProcessCluster, topic string, partitions int32) {
	t.Helper()
	cl := testbroker.OpenClient(t, pc.Addrs()[0], kgo.SeedBrokers(pc.Addrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 3, map[string]*string{"min.insync.replicas": kmsg.StringPtr("2")}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating %s: %v", topic, err)
	}
	pc.WaitPartitions(topic, rejoinTimeout, topic+" created with every replica in sync", func(s []testbroker.PartitionState) bool {
		return len(s) == int(partitions) && pc.FullyInSync(s)
	})
}

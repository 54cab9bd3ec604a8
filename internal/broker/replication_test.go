package broker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// replicatedCluster starts three brokers that drop a silent follower from the ISR after
// lag, and returns them with a client that knows them all.
func replicatedCluster(t *testing.T, lag time.Duration) ([]*testbroker.Broker, []string, *kgo.Client) {
	t.Helper()
	nodes := testbroker.StartCluster(t, 3, testbroker.WithBrokerConfig(map[string]string{
		"replica.lag.time.max.ms": fmt.Sprint(lag.Milliseconds()),
	}))
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr())
	}
	cl := testbroker.NewClient(t, seeds[0], kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(50*time.Millisecond),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(100), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	return nodes, seeds, cl
}

func produceValues(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, from, to int) {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func nodeByID(nodes []*testbroker.Broker, id int32) *testbroker.Broker {
	for _, n := range nodes {
		if n.NodeID() == id {
			return n
		}
	}
	return nil
}

// Three replicas of every partition: acks=all produces reach every replica, batch for
// batch; a leader that stops hands over to an in-sync follower without losing anything
// acknowledged; the stopped broker comes back as a follower, copies what it missed and
// rejoins the ISR.
func TestReplicationKeepsEveryReplicaAndFailsOver(t *testing.T) {
	nodes, seeds, cl := replicatedCluster(t, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	const topic, partitions = "replicated", 3
	if _, err := adm.CreateTopic(ctx, partitions, 3, map[string]*string{"min.insync.replicas": kmsg.StringPtr("2")}, topic); err != nil {
		t.Fatal(err)
	}
	states := testbroker.WaitForISR(ctx, t, nodes, topic, partitions, 3)
	produceValues(ctx, t, cl, topic, 0, 300)
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)

	leader := nodeByID(nodes, states[0].Leader)
	leader.Stop()
	states = testbroker.WaitForISR(ctx, t, nodes, topic, partitions, 2)
	if states[0].Leader == leader.NodeID() || slices.Contains(states[0].ISR, leader.NodeID()) {
		t.Fatalf("stopped broker %d still leads or is in sync: %+v", leader.NodeID(), states[0])
	}
	produceValues(ctx, t, cl, topic, 300, 600)
	var running []string
	for _, n := range nodes {
		if n.Running() {
			running = append(running, n.Addr())
		}
	}
	if got := testbroker.CountValues(t, running[0], topic); len(got) != 600 {
		t.Fatalf("read back %d distinct values after fail-over, want 600", len(got))
	}
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)

	testbroker.StartAll(t, leader)
	testbroker.WaitForISR(ctx, t, nodes, topic, partitions, 3)
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)
	if got := testbroker.CountValues(t, seeds[0], topic); len(got) != 600 {
		t.Fatalf("read back %d distinct values after the broker's return, want 600", len(got))
	}
}

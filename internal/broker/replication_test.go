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

// partitionState is one partition as a broker's metadata shows it.
type partitionState struct {
	leader int32
	isr    []int32
}

// waitForISR waits until every running node's metadata shows each of topic's partitions
// with a leader and an ISR of want members, and returns the states.
func waitForISR(ctx context.Context, t *testing.T, nodes []*testbroker.Broker, topic string, partitions, want int) []partitionState {
	t.Helper()
	var states []partitionState
	waitFor(ctx, t, fmt.Sprintf("every partition of %s has a leader and %d in sync", topic, want), func() bool {
		states = nil
		for _, n := range nodes {
			if !n.Running() {
				continue
			}
			md := metadataOf(ctx, t, n.Addr(), topic)
			if md == nil || len(md.Topics[0].Partitions) != partitions {
				return false
			}
			got := make([]partitionState, partitions)
			for _, p := range md.Topics[0].Partitions {
				if p.Leader < 0 || len(p.ISR) != want {
					return false
				}
				isr := slices.Clone(p.ISR)
				slices.Sort(isr)
				got[p.Partition] = partitionState{leader: p.Leader, isr: isr}
			}
			if states != nil && !slices.EqualFunc(states, got, func(a, b partitionState) bool {
				return a.leader == b.leader && slices.Equal(a.isr, b.isr)
			}) {
				return false
			}
			states = got
		}
		return true
	})
	return states
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
	states := waitForISR(ctx, t, nodes, topic, partitions, 3)
	produceValues(ctx, t, cl, topic, 0, 300)
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)

	leader := nodeByID(nodes, states[0].leader)
	leader.Stop()
	states = waitForISR(ctx, t, nodes, topic, partitions, 2)
	if states[0].leader == leader.NodeID() || slices.Contains(states[0].isr, leader.NodeID()) {
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
	waitForISR(ctx, t, nodes, topic, partitions, 3)
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)
	if got := testbroker.CountValues(t, seeds[0], topic); len(got) != 600 {
		t.Fatalf("read back %d distinct values after the broker's return, want 600", len(got))
	}
}

package broker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// restartedCluster is a cluster of three just after one broker's restart: topic's
// partitions that broker prefers (it is their first replica) were led by others while
// it was down, and nothing has moved them back yet.
type restartedCluster struct {
	nodes     []*testbroker.Broker
	cl        *kgo.Client
	ctrl      int32              // the controller, which stayed up
	restarted *testbroker.Broker // not the controller
}

const balancedTopic = "balanced"

// restartOneBroker starts three brokers with configs, creates balancedTopic (three
// partitions of three replicas) and restarts a broker that is not the controller and
// prefers at least one partition (testbroker.RestartPreferredBroker).
func restartOneBroker(ctx context.Context, t *testing.T, configs map[string]string) *restartedCluster {
	t.Helper()
	rc := &restartedCluster{nodes: testbroker.StartCluster(t, 3, testbroker.WithBrokerConfig(configs))}
	rc.cl = clusterClient(t, rc.nodes)
	rc.ctrl = controllerAmong(ctx, t, rc.cl, rc.nodes)
	waitAll(ctx, t, rc.cl, rc.nodes, "3 live brokers", func(id int32) bool { return len(brokersAt(ctx, t, rc.cl, id)) == 3 })
	mustSucceed(t, "CreateTopics", ask(ctx, t, rc.cl, rc.ctrl, createTopicsRequest(balancedTopic, 3, 3)))
	rc.restarted = testbroker.RestartPreferredBroker(ctx, t, rc.nodes, balancedTopic, 3)
	if rc.restarted.NodeID() == rc.ctrl {
		t.Fatalf("the controller %d was restarted", rc.ctrl)
	}
	return rc
}

// third is the broker that is neither the controller nor the restarted one.
func (rc *restartedCluster) third() int32 {
	for _, n := range rc.nodes {
		if n.NodeID() != rc.ctrl && n != rc.restarted {
			return n.NodeID()
		}
	}
	panic("a restartedCluster has three brokers")
}

// movedAway waits until the restarted broker is back in every ISR and returns the
// partitions led by another broker than their first replica: the restarted broker's.
func (rc *restartedCluster) movedAway(ctx context.Context, t *testing.T) []int32 {
	t.Helper()
	var moved []int32
	for _, p := range testbroker.WaitForISR(ctx, t, rc.nodes, balancedTopic, 3, 3) {
		if !p.Preferred() {
			if p.Replicas[0] != rc.restarted.NodeID() {
				t.Fatalf("partition %d is led by %d, not by its first replica %d, which never stopped", p.Partition, p.Leader, p.Replicas[0])
			}
			moved = append(moved, p.Partition)
		}
	}
	if len(moved) == 0 {
		t.Fatalf("no leadership moved away from broker %d", rc.restarted.NodeID())
	}
	return moved
}

// preferredEverywhere waits until every broker shows balancedTopic led by first replicas.
func (rc *restartedCluster) preferredEverywhere(ctx context.Context, t *testing.T) {
	t.Helper()
	testbroker.WaitForPartitions(ctx, t, rc.nodes, balancedTopic, 3, "every partition is led by its first replica",
		func(p testbroker.PartitionState) bool { return p.Preferred() && len(p.ISR) == 3 })
}

// After a restart, ElectLeaders for every partition, asked of a broker that is not the
// controller, moves leadership back to the first replicas, and that broker answers once
// it shows them; asked again, nothing needs an election. Refusals carry Kafka's codes.
func TestElectPreferredLeadersAfterARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rc := restartOneBroker(ctx, t, map[string]string{"auto.leader.rebalance.enable": "false"})
	moved := rc.movedAway(ctx, t)
	// Neither the controller nor the restarted broker, to whose earlier incarnation the
	// client may still hold connections.
	via := rc.third()

	resp := ask(ctx, t, rc.cl, via, electLeadersRequest(0, nil)).(*kmsg.ElectLeadersResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("ElectLeaders: %v", err)
	}
	results := electionResults(resp)
	var elected []int32
	for tp, err := range results {
		if err != nil || tp.topic != balancedTopic {
			t.Errorf("%s-%d: %v; an election of every partition answers only the elected", tp.topic, tp.partition, err)
		}
		elected = append(elected, tp.partition)
	}
	slices.Sort(elected)
	if !slices.Equal(elected, moved) {
		t.Fatalf("elected %v, want the partitions that had moved away, %v", elected, moved)
	}
	for _, p := range partitionsAt(ctx, t, rc.cl, via, balancedTopic) {
		if p.Leader != p.Replicas[0] {
			t.Fatalf("broker %d answered before it showed partition %d led by its first replica: leader %d", via, p.Partition, p.Leader)
		}
	}
	rc.preferredEverywhere(ctx, t)

	// Again: nothing to elect, which an election of every partition leaves out of its
	// answer, and one of named partitions answers ELECTION_NOT_NEEDED (kadm, which asks
	// the controller).
	again := ask(ctx, t, rc.cl, via, electLeadersRequest(0, nil)).(*kmsg.ElectLeadersResponse)
	if err := kerr.ErrorForCode(again.ErrorCode); err != nil {
		t.Fatalf("second ElectLeaders: %v", err)
	}
	if len(electionResults(again)) != 0 {
		t.Fatalf("a second election of every partition answered %v", electionResults(again))
	}
	named, err := kadm.NewClient(rc.cl).ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{balancedTopic: {0: {}, 1: {}, 2: {}}})
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(3) {
		if r := named[balancedTopic][p]; !errors.Is(r.Err, kerr.ElectionNotNeeded) {
			t.Errorf("second election of partition %d: %v (%s), want ELECTION_NOT_NEEDED", p, r.Err, r.ErrMessage)
		}
	}

	// Refusals, the same from the controller and from a broker that forwards.
	for _, id := range []int32{rc.ctrl, via} {
		unknown := ask(ctx, t, rc.cl, id, electLeadersRequest(0, map[string][]int32{balancedTopic: {7}, "missing": {0}})).(*kmsg.ElectLeadersResponse)
		if err := kerr.ErrorForCode(unknown.ErrorCode); err != nil {
			t.Fatalf("broker %d, unknown partitions: top-level %v", id, err)
		}
		if len(electionResults(unknown)) != 2 {
			t.Fatalf("broker %d answered %v for two unknown partitions", id, electionResults(unknown))
		}
		for tp, err := range electionResults(unknown) {
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				t.Errorf("broker %d, %s-%d: %v, want UNKNOWN_TOPIC_OR_PARTITION", id, tp.topic, tp.partition, err)
			}
		}
		bad := ask(ctx, t, rc.cl, id, electLeadersRequest(2, map[string][]int32{balancedTopic: {0}})).(*kmsg.ElectLeadersResponse)
		if err := kerr.ErrorForCode(bad.ErrorCode); !errors.Is(err, kerr.InvalidRequest) {
			t.Errorf("broker %d, election type 2: %v, want INVALID_REQUEST", id, err)
		}
		for tp, err := range electionResults(bad) {
			if !errors.Is(err, kerr.InvalidRequest) {
				t.Errorf("broker %d, election type 2, %s-%d: %v, want INVALID_REQUEST", id, tp.topic, tp.partition, err)
			}
		}
	}
	// A voter that is not the controller does not forward again what it was forwarded.
	listener, err := peerOf(t, rc.nodes, via).Request(ctx, electLeadersRequest(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(listener.(*kmsg.ElectLeadersResponse).ErrorCode); !errors.Is(err, kerr.NotController) {
		t.Fatalf("ElectLeaders on the controller listener of broker %d, not the controller: %v, want NOT_CONTROLLER", via, err)
	}
}

// With auto.leader.rebalance.enable, the controller moves leadership back by itself
// once the restarted broker is in sync again.
func TestAutoLeaderRebalanceAfterARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rc := restartOneBroker(ctx, t, map[string]string{"leader.imbalance.check.interval.seconds": "1"})
	rc.preferredEverywhere(ctx, t)
	if elections := balanceMetric(t, rc.nodes, "waybill_controller_preferred_leader_elections_total"); elections == 0 {
		t.Fatal("leadership moved back, but not by the controller's leader balancing")
	}
}

// With auto.leader.rebalance.enable=false the controller checks, finds partitions it
// could move back, and leaves them be: three checks after the broker is back in sync,
// nothing has moved.
func TestNoAutoLeaderRebalanceWhenDisabled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rc := restartOneBroker(ctx, t, map[string]string{
		"leader.imbalance.check.interval.seconds": "1", "auto.leader.rebalance.enable": "false"})
	moved := rc.movedAway(ctx, t)

	const checks = "waybill_controller_leader_imbalance_checks_total"
	start := balanceMetric(t, rc.nodes, checks)
	waitFor(ctx, t, "three more imbalance checks, the last finding partitions to move back", func() bool {
		return balanceMetric(t, rc.nodes, checks) >= start+3 &&
			balanceMetric(t, rc.nodes, "waybill_controller_preferred_leaders_electable") == float64(len(moved))
	})
	if elections := balanceMetric(t, rc.nodes, "waybill_controller_preferred_leader_elections_total"); elections != 0 {
		t.Fatalf("the controller made %v preferred elections with auto.leader.rebalance.enable=false", elections)
	}
	if again := rc.movedAway(ctx, t); !slices.Equal(again, moved) {
		t.Fatalf("partitions led away from their first replica: %v, then %v", moved, again)
	}
}

// An unclean election asked for explicitly gives a partition whose in-sync replicas
// are all down an out-of-sync live replica, although the topic does not allow unclean
// elections by itself; what the old ISR had beyond that replica's log is gone.
func TestElectUncleanLeader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Five voters, so that the quorum survives two of them down.
	nodes := testbroker.StartCluster(t, 5, testbroker.WithBrokerConfig(map[string]string{"auto.leader.rebalance.enable": "false"}))
	cl := clusterClient(t, nodes)
	ctrl := controllerAmong(ctx, t, cl, nodes)
	var others []*testbroker.Broker
	for _, n := range nodes {
		if n.NodeID() != ctrl {
			others = append(others, n)
		}
	}
	insync, behind, via := others[0], others[1], others[2].NodeID()
	waitAll(ctx, t, cl, nodes, "5 live brokers", func(id int32) bool { return len(brokersAt(ctx, t, cl, id)) == 5 })
	const topic = "unclean"
	create := createTopicsRequest(topic, -1, -1)
	assignment := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	assignment.Replicas = []int32{insync.NodeID(), behind.NodeID()}
	create.Topics[0].ReplicaAssignment = append(create.Topics[0].ReplicaAssignment, assignment)
	mustSucceed(t, "CreateTopics", ask(ctx, t, cl, ctrl, create))
	testbroker.WaitForISR(ctx, t, nodes, topic, 1, 2)

	const before, after = 50, 30
	produceValues(ctx, t, cl, topic, 0, before)
	behind.Stop()
	testbroker.WaitForISR(ctx, t, nodes, topic, 1, 1)
	produceValues(ctx, t, cl, topic, before, before+after) // on the in-sync replica alone
	insync.Stop()
	behind.StartAgain()
	offline := testbroker.WaitForPartitions(ctx, t, nodes, topic, 1, "the partition is offline, its last in-sync replica down",
		func(p testbroker.PartitionState) bool { return p.Leader == -1 })
	if !slices.Equal(offline[0].ISR, []int32{insync.NodeID()}) {
		t.Fatalf("offline partition: %+v, want the stopped in-sync replica %d as its ISR", offline[0], insync.NodeID())
	}

	one := map[string][]int32{topic: {0}}
	preferred := ask(ctx, t, cl, via, electLeadersRequest(0, one)).(*kmsg.ElectLeadersResponse)
	if err := electionResults(preferred)[electionKey{topic, 0}]; preferred.ErrorCode != 0 || !errors.Is(err, kerr.PreferredLeaderNotAvailable) {
		t.Fatalf("preferred election with the preferred replica down: %v, want PREFERRED_LEADER_NOT_AVAILABLE", err)
	}
	unclean := ask(ctx, t, cl, via, electLeadersRequest(1, one)).(*kmsg.ElectLeadersResponse)
	if err := electionResults(unclean)[electionKey{topic, 0}]; err != nil || unclean.ErrorCode != 0 {
		t.Fatalf("unclean election: %v (top level %d)", err, unclean.ErrorCode)
	}
	p := partitionsAt(ctx, t, cl, via, topic)[0]
	if p.Leader != behind.NodeID() || !slices.Equal(p.ISR, []int32{behind.NodeID()}) {
		t.Fatalf("broker %d answered before it showed the unclean leader %d: leader %d, ISR %v", via, behind.NodeID(), p.Leader, p.ISR)
	}
	again, err := kadm.NewClient(cl).ElectLeaders(ctx, kadm.ElectLiveReplica, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := again[topic][0].Err; !errors.Is(err, kerr.ElectionNotNeeded) {
		t.Fatalf("a second unclean election: %v, want ELECTION_NOT_NEEDED", err)
	}
	testbroker.WaitForPartitions(ctx, t, nodes, topic, 1, fmt.Sprintf("every broker shows %d leading", behind.NodeID()),
		func(p testbroker.PartitionState) bool { return p.Leader == behind.NodeID() })
	if got := testbroker.CountValues(t, behind.Addr(), topic); len(got) != before {
		t.Fatalf("the unclean leader serves %d values, want the %d it had copied", len(got), before)
	}
}

// electionKey names one partition of an ElectLeaders answer.
type electionKey struct {
	topic     string
	partition int32
}

// electLeadersRequest asks for elections of type electionType on partitions, nil for
// every partition.
func electLeadersRequest(electionType int8, partitions map[string][]int32) *kmsg.ElectLeadersRequest {
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType = electionType
	req.TimeoutMillis = 30000
	if partitions != nil {
		req.Topics = []kmsg.ElectLeadersRequestTopic{}
	}
	for topic, ps := range partitions {
		rt := kmsg.NewElectLeadersRequestTopic()
		rt.Topic, rt.Partitions = topic, ps
		req.Topics = append(req.Topics, rt)
	}
	return req
}

// electionResults is each partition's error in an ElectLeaders answer.
func electionResults(resp *kmsg.ElectLeadersResponse) map[electionKey]error {
	out := map[electionKey]error{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[electionKey{t.Topic, p.Partition}] = kerr.ErrorForCode(p.ErrorCode)
		}
	}
	return out
}

// balanceMetric sums one of the controller's leader balancing metrics over the running
// nodes: only the controller's grow.
func balanceMetric(t *testing.T, nodes []*testbroker.Broker, name string) float64 {
	t.Helper()
	var sum float64
	for _, n := range nodes {
		if !n.Running() {
			continue
		}
		families, err := n.Registry().Gather()
		if err != nil {
			t.Fatalf("gathering metrics: %v", err)
		}
		for _, f := range families {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

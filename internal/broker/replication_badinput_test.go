package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/peer"
	"github.com/waybill/waybill/internal/testbroker"
)

// Bad replication requests get their Kafka error code and change nothing: a fetch from a
// broker that is no replica, from a stale incarnation of a follower, or with a stale or
// future leader epoch; an AlterPartition with a stale partition epoch or from a broker
// that does not lead.
func TestBadReplicationRequestsAreRefused(t *testing.T) {
	nodes, _, cl := replicatedCluster(t, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const topic = "guarded"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 2, nil, topic); err != nil {
		t.Fatal(err)
	}
	states := testbroker.WaitForISR(ctx, t, nodes, topic, 1, 2)
	produceValues(ctx, t, cl, topic, 0, 10)
	// A leader change first, so that the partition has a leader epoch before its own.
	first := nodeByID(nodes, states[0].Leader)
	first.Stop()
	testbroker.WaitForISR(ctx, t, nodes, topic, 1, 1)
	testbroker.StartAll(t, first)
	states = testbroker.WaitForISR(ctx, t, nodes, topic, 1, 2)
	leader := states[0].Leader
	var follower, outsider int32 = -1, -1
	for _, n := range nodes {
		switch id := n.NodeID(); {
		case id == leader:
		case containsID(states[0].ISR, id):
			follower = id
		default:
			outsider = id
		}
	}
	img := nodeByID(nodes, leader).Image()
	mt := img.Topics[topic]
	pm := mt.Partitions[0]
	before := nodeByID(nodes, leader).Replica(topic, 0).Log().EndOffset()

	fetch := func(replica int32, brokerEpoch int64, leaderEpoch int32) int16 {
		t.Helper()
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID = replica
		req.ReplicaState.ID, req.ReplicaState.Epoch = replica, brokerEpoch
		req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 10, 1, 1<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, mt.ID
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.CurrentLeaderEpoch, fp.FetchOffset, fp.PartitionMaxBytes = 0, leaderEpoch, 0, 1<<20
		rt.Partitions = append(rt.Partitions, fp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	epochOf := func(id int32) int64 { return img.Brokers[id].Epoch }
	for _, c := range []struct {
		what        string
		replica     int32
		brokerEpoch int64
		leaderEpoch int32
		want        *kerr.Error
	}{
		{"a broker that holds no replica", outsider, epochOf(outsider), pm.LeaderEpoch, kerr.NotLeaderForPartition},
		{"an unregistered broker id", 99, -1, pm.LeaderEpoch, kerr.NotLeaderForPartition},
		{"a stale incarnation of the follower", follower, epochOf(follower) - 1, pm.LeaderEpoch, kerr.StaleBrokerEpoch},
		{"a stale leader epoch", follower, epochOf(follower), pm.LeaderEpoch - 1, kerr.FencedLeaderEpoch},
		{"a future leader epoch", follower, epochOf(follower), pm.LeaderEpoch + 1, kerr.UnknownLeaderEpoch},
	} {
		if got := fetch(c.replica, c.brokerEpoch, c.leaderEpoch); got != c.want.Code {
			t.Errorf("fetch from %s: %v, want %v", c.what, kerr.ErrorForCode(got), c.want)
		}
	}

	// AlterPartition goes to the controller listener of whichever node is controller.
	alter := func(from int32, partitionEpoch int32, isr []int32) (int16, int16) {
		t.Helper()
		req := kmsg.NewPtrAlterPartitionRequest()
		req.BrokerID, req.BrokerEpoch = from, epochOf(from)
		rt := kmsg.NewAlterPartitionRequestTopic()
		rt.TopicID = mt.ID
		rp := kmsg.NewAlterPartitionRequestTopicPartition()
		rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch, rp.NewISR = 0, pm.LeaderEpoch, partitionEpoch, isr
		for _, r := range isr {
			m := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
			m.BrokerID, m.BrokerEpoch = r, epochOf(r)
			rp.NewEpochISR = append(rp.NewEpochISR, m)
		}
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		controller := nodeByID(nodes, nodeByID(nodes, leader).Image().ControllerID)
		pc := peer.New(controller.ControllerAddr(), "test", cluster.DialController)
		defer pc.Close()
		resp, err := pc.Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		r := resp.(*kmsg.AlterPartitionResponse)
		if r.ErrorCode != 0 {
			return r.ErrorCode, 0
		}
		return 0, r.Topics[0].Partitions[0].ErrorCode
	}
	if top, code := alter(leader, pm.PartitionEpoch-1, []int32{leader}); top != 0 || code != kerr.InvalidUpdateVersion.Code {
		t.Errorf("AlterPartition with a stale partition epoch: %v / %v, want INVALID_UPDATE_VERSION", kerr.ErrorForCode(top), kerr.ErrorForCode(code))
	}
	if top, code := alter(follower, pm.PartitionEpoch, []int32{follower}); top != 0 || code != kerr.NotLeaderForPartition.Code {
		t.Errorf("AlterPartition from a follower: %v / %v, want NOT_LEADER_OR_FOLLOWER", kerr.ErrorForCode(top), kerr.ErrorForCode(code))
	}
	if top, _ := alter(leader, pm.PartitionEpoch, []int32{leader}); top != 0 {
		// A valid one, for contrast, is taken; the leader's own next fetch-driven
		// expansion brings the follower back.
		t.Errorf("a valid AlterPartition: %v", kerr.ErrorForCode(top))
	}
	testbroker.WaitForISR(ctx, t, nodes, topic, 1, 2)
	if after := nodeByID(nodes, leader).Replica(topic, 0).Log().EndOffset(); after != before {
		t.Fatalf("the leader's log end moved from %d to %d", before, after)
	}
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// DescribeCluster carries each broker's epoch in Waybill's tagged field, the epoch the
// metadata holds, and a new registration raises it.
func TestDescribeClusterCarriesBrokerEpochs(t *testing.T) {
	nodes, _, cl := replicatedCluster(t, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	epochs := func() map[int32]int64 {
		t.Helper()
		resp, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int32]int64{}
		for _, b := range resp.Brokers {
			out[b.NodeID] = broker.BrokerEpoch(b)
		}
		return out
	}
	var before map[int32]int64
	waitFor(ctx, t, "every broker unfenced, with the epoch of its registration", func() bool {
		before = epochs()
		img := nodes[0].Image()
		for _, n := range nodes {
			if e, ok := before[n.NodeID()]; !ok || e <= 0 || e != img.Brokers[n.NodeID()].Epoch {
				return false
			}
		}
		return true
	})
	nodes[2].Stop()
	testbroker.StartAll(t, nodes[2])
	waitFor(ctx, t, "broker 3 registered again with a higher epoch", func() bool {
		return epochs()[nodes[2].NodeID()] > before[nodes[2].NodeID()]
	})
}

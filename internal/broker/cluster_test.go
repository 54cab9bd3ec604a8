package broker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/testbroker"
)

// A cluster of three brokers, one replica per partition: every broker answers metadata
// from the same image, each partition is served by its leader alone, a broker asked for
// a partition it does not lead says who does (KIP-951), and a broker that stops takes
// its partitions offline until it is back, with its data.
func TestClusterServesEachPartitionFromItsLeader(t *testing.T) {
	nodes := testbroker.StartCluster(t, 3)
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := testbroker.NewClient(t, seeds[0], kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(50*time.Millisecond))
	adm := kadm.NewClient(cl)

	const topic, partitions, values = "spread", 6, 600
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	leaders := waitForLeaders(ctx, t, nodes, topic, partitions)
	if spread := distinct(leaders); spread != 3 {
		t.Fatalf("leaders %v use %d of 3 brokers", leaders, spread)
	}

	var recs []*kgo.Record
	for i := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if got := testbroker.CountValues(t, seeds[0], topic); len(got) != values {
		t.Fatalf("read back %d distinct values, want %d", len(got), values)
	}

	// Every broker hands out producer ids, from blocks the controller allocates to it:
	// all distinct.
	seen := map[int64]int32{}
	for _, n := range nodes {
		init := kmsg.NewPtrInitProducerIDRequest()
		resp, err := cl.Broker(int(n.NodeID())).Request(ctx, init)
		if err != nil {
			t.Fatal(err)
		}
		r := resp.(*kmsg.InitProducerIDResponse)
		if r.ErrorCode != 0 {
			t.Fatalf("InitProducerId on broker %d: %v", n.NodeID(), kerr.ErrorForCode(r.ErrorCode))
		}
		if other, dup := seen[r.ProducerID]; dup {
			t.Fatalf("brokers %d and %d both handed out producer id %d", other, n.NodeID(), r.ProducerID)
		}
		seen[r.ProducerID] = n.NodeID()
	}

	// Every broker takes topic creations, its own clients' and auto-creations, and
	// forwards them to the controller.
	for _, n := range nodes {
		name := fmt.Sprintf("created-at-%d", n.NodeID())
		create := kmsg.NewPtrCreateTopicsRequest()
		ct := kmsg.NewCreateTopicsRequestTopic()
		ct.Topic, ct.NumPartitions, ct.ReplicationFactor = name, 2, 1
		create.Topics = append(create.Topics, ct)
		create.TimeoutMillis = 10000
		resp, err := cl.Broker(int(n.NodeID())).Request(ctx, create)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.(*kmsg.CreateTopicsResponse).Topics[0]; ct.ErrorCode != 0 || ct.NumPartitions != 2 {
			t.Fatalf("CreateTopics on broker %d: %v (%d partitions)", n.NodeID(), kerr.ErrorForCode(ct.ErrorCode), ct.NumPartitions)
		}
		auto := fmt.Sprintf("auto-at-%d", n.NodeID())
		md := kmsg.NewPtrMetadataRequest()
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(auto)
		md.Topics, md.AllowAutoTopicCreation = append(md.Topics, mt), true
		resp, err = cl.Broker(int(n.NodeID())).Request(ctx, md)
		if err != nil {
			t.Fatal(err)
		}
		if at := resp.(*kmsg.MetadataResponse).Topics[0]; at.ErrorCode != 0 || len(at.Partitions) != 1 {
			t.Fatalf("auto-creation on broker %d: %v", n.NodeID(), kerr.ErrorForCode(at.ErrorCode))
		}
	}

	// Partition 0 asked of a broker that does not lead it.
	wrong := nodes[(leaders[0])%3] // node ids are 1..3, so this is another one
	produce := kmsg.NewPtrProduceRequest()
	produce.Version, produce.Acks, produce.TimeoutMillis = 11, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli()}, []records.Record{{Value: []byte("x")}})
	rt.Partitions = append(rt.Partitions, rp)
	produce.Topics = append(produce.Topics, rt)
	resp, err := cl.Broker(int(wrong.NodeID())).Request(ctx, produce)
	if err != nil {
		t.Fatal(err)
	}
	pr := resp.(*kmsg.ProduceResponse)
	got := pr.Topics[0].Partitions[0]
	if got.ErrorCode != kerr.NotLeaderForPartition.Code || got.CurrentLeader.LeaderID != leaders[0] {
		t.Fatalf("produce to broker %d for a partition led by %d: %v, current leader %+v",
			wrong.NodeID(), leaders[0], kerr.ErrorForCode(got.ErrorCode), got.CurrentLeader)
	}
	if len(pr.Brokers) != 1 || pr.Brokers[0].NodeID != leaders[0] || pr.Brokers[0].Host != "127.0.0.1" {
		t.Fatalf("leader endpoints in the answer: %+v", pr.Brokers)
	}

	// The leader of partition 0 stops: its partitions go offline, and the others serve on.
	down := nodes[leaders[0]-1]
	down.Stop()
	live := slices.DeleteFunc(slices.Clone(nodes), func(n *testbroker.Broker) bool { return n == down })
	waitFor(ctx, t, fmt.Sprintf("broker %d fenced and its partitions offline", down.NodeID()), func() bool {
		for _, n := range live {
			md := metadataOf(ctx, t, n.Addr(), topic)
			if md == nil || slices.ContainsFunc(md.Brokers, func(b kmsg.MetadataResponseBroker) bool { return b.NodeID == down.NodeID() }) {
				return false
			}
			p0 := md.Topics[0].Partitions[0]
			if p0.Leader != -1 || p0.ErrorCode != kerr.LeaderNotAvailable.Code || !slices.Equal(p0.OfflineReplicas, []int32{down.NodeID()}) {
				return false
			}
		}
		return true
	})

	// Back again: its partitions are online with everything they held.
	testbroker.StartAll(t, down)
	after := waitForLeaders(ctx, t, nodes, topic, partitions)
	if !slices.Equal(after, leaders) {
		t.Fatalf("leaders after the restart %v, want %v", after, leaders)
	}
	if got := testbroker.CountValues(t, seeds[1], topic); len(got) != values {
		t.Fatalf("after the restart: %d distinct values, want %d", len(got), values)
	}
}

// waitForLeaders waits until every node's metadata gives every partition of topic a
// leader, the same on all nodes, and returns the leaders by partition.
func waitForLeaders(ctx context.Context, t *testing.T, nodes []*testbroker.Broker, topic string, partitions int) []int32 {
	t.Helper()
	var leaders []int32
	waitFor(ctx, t, "every node agrees on a leader for every partition of "+topic, func() bool {
		var first []int32
		for _, n := range nodes {
			md := metadataOf(ctx, t, n.Addr(), topic)
			if md == nil || len(md.Topics[0].Partitions) != partitions {
				return false
			}
			got := make([]int32, partitions)
			for _, p := range md.Topics[0].Partitions {
				if p.Leader < 0 {
					return false
				}
				got[p.Partition] = p.Leader
			}
			if first != nil && !slices.Equal(first, got) {
				return false
			}
			first = got
		}
		leaders = first
		return true
	})
	return leaders
}

// metadataOf asks one broker for topic's metadata; nil when it does not know the topic.
func metadataOf(ctx context.Context, t *testing.T, addr, topic string) *kmsg.MetadataResponse {
	t.Helper()
	cl := testbroker.NewClient(t, addr)
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := cl.Broker(-2147483648).Request(ctx, req) // the seed itself, not a leader
	if err != nil {
		return nil
	}
	md := resp.(*kmsg.MetadataResponse)
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode == kerr.UnknownTopicOrPartition.Code {
		return nil
	}
	return md
}

func distinct(ids []int32) int {
	s := slices.Clone(ids)
	slices.Sort(s)
	return len(slices.Compact(s))
}

// waitFor polls cond every 20 ms until it holds, failing the test when ctx ends first.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// The cluster page's JSON shows a real broker's topics with their high watermark and last
// stable offset, its producers with their sequence numbers, an open transaction, and a
// group with its lag.
func TestClusterAPI(t *testing.T) {
	b := testbroker.Start(t)
	addr := b.Addr()
	testbroker.CreateTopic(t, addr, "orders", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// An idempotent producer writes 3 records to partition 0.
	idem := testbroker.NewClient(t, addr, kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := 0; i < 3; i++ {
		if err := idem.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// A transactional producer leaves a transaction open on partition 1.
	txn := testbroker.NewClient(t, addr, kgo.DefaultProduceTopic("orders"), kgo.TransactionalID("billing"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Partition: 1, Value: []byte("pending")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A group reads partition 0 and commits 2 of its 3 records.
	group := testbroker.NewClient(t, addr, kgo.ConsumerGroup("audit"), kgo.ConsumeTopics("orders"),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var first []*kgo.Record
	for len(first) < 2 && ctx.Err() == nil {
		group.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if r.Partition == 0 && len(first) < 2 {
				first = append(first, r)
			}
		})
	}
	if err := group.CommitRecords(ctx, first...); err != nil {
		t.Fatal(err)
	}

	_, srv := startConsole(t, Config{Bootstrap: addr})
	var st ClusterState
	get(t, srv.URL+"/api/cluster", &st, http.StatusOK)
	if st.Sandbox || st.Bootstrap != addr || len(st.Brokers) != 1 {
		t.Errorf("cluster at %s (sandbox %v) with %d brokers, want the broker at %s", st.Bootstrap, st.Sandbox, len(st.Brokers), addr)
	} else if b := st.Brokers[0]; b.Fenced || !b.Controller || b.ID != st.Controller {
		t.Errorf("broker %+v, controller %d: want the one broker active and controller", b, st.Controller)
	}
	if len(st.Topics) != 1 || st.Topics[0].Name != "orders" || len(st.Topics[0].Partitions) != 2 {
		t.Fatalf("topics %+v, want orders with 2 partitions and no internal topic", st.Topics)
	}
	p0, p1 := st.Topics[0].Partitions[0], st.Topics[0].Partitions[1]
	if p0.HighWatermark != 3 || p0.LastStable != 3 {
		t.Errorf("partition 0: high watermark %d, last stable %d; want 3 and 3", p0.HighWatermark, p0.LastStable)
	}
	if p1.HighWatermark != 1 || p1.LastStable != 0 {
		t.Errorf("partition 1: high watermark %d, last stable %d; want 1 and 0 (open transaction)", p1.HighWatermark, p1.LastStable)
	}
	if p0.UnderReplicated || p0.UnderMinISR || p0.Offline || st.Topics[0].MinISR != 1 {
		t.Errorf("partition 0 of a single broker %+v, min.insync.replicas %d: want it whole, and 1", p0, st.Topics[0].MinISR)
	}
	var sawIdem, sawTxn bool
	for _, p := range st.Producers {
		switch {
		case p.Partition == 0 && p.LastSequence == 2:
			sawIdem = true
		case p.Partition == 1 && p.TxnStartOffset == 0:
			sawTxn = true
		}
	}
	if !sawIdem || !sawTxn {
		t.Errorf("producers %+v: want one at sequence 2 on partition 0 and an open transaction from offset 0 on partition 1", st.Producers)
	}
	if len(st.Transactions) != 1 || st.Transactions[0].ID != "billing" || !st.Transactions[0].Open ||
		len(st.Transactions[0].Partitions) != 1 || st.Transactions[0].Partitions[0] != "orders/1" {
		t.Errorf("transactions %+v, want billing open on orders/1", st.Transactions)
	}
	if len(st.Groups) != 1 || st.Groups[0].Name != "audit" || len(st.Groups[0].Members) != 1 {
		t.Fatalf("groups %+v, want audit with one member", st.Groups)
	}
	var lag0 int64 = -2
	for _, o := range st.Groups[0].Offsets {
		if o.Partition == 0 {
			lag0 = o.Lag
		}
	}
	if lag0 != 1 {
		t.Errorf("group offsets %+v: want lag 1 on partition 0", st.Groups[0].Offsets)
	}
	if len(st.Errors) != 0 {
		t.Errorf("errors reading the cluster: %v", st.Errors)
	}

	var withInternal ClusterState
	get(t, srv.URL+"/api/cluster?internal=1", &withInternal, http.StatusOK)
	if len(withInternal.Topics) <= 1 {
		t.Errorf("internal=1 shows %d topics, want the internal ones too", len(withInternal.Topics))
	}
}

// On the sandbox cluster, the cluster page follows a killed leader live: its broker
// fenced, a new leader, the partition under-replicated; then whole again once the node
// is restarted.
func TestClusterAPIFollowsAKilledLeader(t *testing.T) {
	_, srv := startConsole(t, Config{})
	var sim SimState
	post(t, srv.URL+"/api/sim/reset", SimSettings{Acks: "all", Retries: true, Partitions: 1}, &sim, http.StatusOK)
	partition := func(st ClusterState) PartitionState {
		for _, tp := range st.Topics {
			if tp.Name == sim.Topic && len(tp.Partitions) > 0 {
				return tp.Partitions[0]
			}
		}
		return PartitionState{Leader: -2}
	}
	st := awaitCluster(t, srv.URL, "the run's topic whole", func(st ClusterState) bool {
		p := partition(st)
		return len(st.Brokers) == 3 && p.Leader > 0 && len(p.ISR) == 3 && !p.UnderReplicated
	})
	if !st.Sandbox || st.Controller < 1 || len(partition(st).Replicas) != 3 {
		t.Fatalf("the sandbox cluster: %+v", st)
	}
	old := partition(st).Leader
	post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "kill-leader"}, nil, http.StatusOK)
	st = awaitCluster(t, srv.URL, fmt.Sprintf("node %d fenced and a new leader", old), func(st ClusterState) bool {
		p := partition(st)
		fenced := slices.ContainsFunc(st.Brokers, func(b ClusterNode) bool { return b.ID == old && b.Fenced })
		return fenced && p.Leader > 0 && p.Leader != old && p.UnderReplicated && !p.UnderMinISR
	})
	t.Logf("after the kill: brokers %+v, partition %+v", st.Brokers, partition(st))
	post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "restart-node"}, nil, http.StatusOK)
	awaitCluster(t, srv.URL, fmt.Sprintf("node %d back in the ISR", old), func(st ClusterState) bool {
		p := partition(st)
		return !slices.ContainsFunc(st.Brokers, func(b ClusterNode) bool { return b.Fenced }) && len(p.ISR) == 3 && !p.UnderReplicated
	})
}

// awaitCluster polls the cluster page's JSON until cond accepts it, within 30 s.
func awaitCluster(t *testing.T, base, what string, cond func(ClusterState) bool) ClusterState {
	t.Helper()
	return pollUntil(t, 30*time.Second, what, func() (st ClusterState) {
		get(t, base+"/api/cluster", &st, http.StatusOK)
		return st
	}, cond)
}

package faults_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// Bounds of the process cluster test's waits.
const (
	failoverTimeout = 15 * time.Second // a new leader after a kill or a stop
	rejoinTimeout   = 30 * time.Second // a restarted node back in every ISR
)

// TestProcessClusterKill9StopAndReplicaLogs runs three `waybill serve` processes with a
// topic of replication factor 3 written through the nodes' proxies: kill -9 of a
// partition leader moves its leaderships to the survivors, a SIGTERM stop of the
// controller hands its leaderships over before it exits, each node restarts on
// its data directory and rejoins every ISR, and once all are stopped the three replicas
// of every partition hold the same batches, every acknowledged offset included.
func TestProcessClusterKill9StopAndReplicaLogs(t *testing.T) {
	t.Parallel()
	const (
		topic      = "process-cluster"
		partitions = 3
		perPhase   = 30
	)
	pc := testbroker.StartProcessCluster(t, waybillBinary, 3, testbroker.ProcessClusterOptions{}).Cluster()
	cl := testbroker.NewClient(t, pc.Seeds()[0], quickRetries(kgo.SeedBrokers(pc.Seeds()...),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))...)
	assertAdvertisesSeeds(t, cl, pc.Seeds())
	createTopic(t, cl, topic, partitions, 3)
	inSync := func(what string) []faults.PartitionState {
		t.Helper()
		return waitPartitions(t, pc, topic, rejoinTimeout, what, func(s []faults.PartitionState) bool {
			return len(s) == partitions && pc.FullyInSync(s)
		})
	}
	committed := map[int32]int64{}
	produceCounting(t, cl, topic, perPhase, committed)

	// The kill hits a partition leader other than the controller, sparing the test a
	// metadata election; the SIGTERM below hits the controller.
	before := inSync("every replica in sync before the kill")
	controller, err := pc.Controller()
	if err != nil {
		t.Fatal(err)
	}
	killed := controller%3 + 1
	if i := slices.IndexFunc(before, func(p faults.PartitionState) bool { return p.Leader != controller }); i >= 0 {
		killed = before[i].Leader
	}
	if err := pc.Kill(killed); err != nil {
		t.Fatal(err)
	}
	waitPartitions(t, pc, topic, failoverTimeout, fmt.Sprintf("new leaders for the partitions node %d led", killed), func(s []faults.PartitionState) bool {
		for i, p := range s {
			if before[i].Leader == killed && (p.Leader < 0 || p.Leader == killed || p.LeaderEpoch <= before[i].LeaderEpoch) {
				return false
			}
		}
		return true
	})
	produceCounting(t, cl, topic, perPhase, committed)
	if err := pc.Start(killed); err != nil {
		t.Fatal(err)
	}
	inSync(fmt.Sprintf("node %d back in every ISR after kill -9", killed))

	stopped, err := pc.Controller()
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.Stop(stopped); err != nil {
		t.Fatal(err)
	}
	// A controlled shutdown hands the leaderships over before the process exits.
	waitPartitions(t, pc, topic, failoverTimeout, fmt.Sprintf("no partition led by the stopped node %d", stopped), func(s []faults.PartitionState) bool {
		return !slices.ContainsFunc(s, func(p faults.PartitionState) bool { return p.Leader < 0 || p.Leader == stopped })
	})
	produceCounting(t, cl, topic, perPhase, committed)
	if err := pc.Start(stopped); err != nil {
		t.Fatal(err)
	}
	inSync(fmt.Sprintf("node %d back in every ISR after SIGTERM", stopped))
	for _, id := range []int32{killed, stopped} {
		if got := pc.Node(id).Starts(); got != 2 {
			t.Errorf("node %d started %d times, want 2", id, got)
		}
	}

	if err := pc.StopAll(); err != nil {
		t.Fatal(err)
	}
	logs, err := pc.ReplicaLogs(topic, partitions)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != partitions*3 {
		t.Fatalf("%d replica logs, want %d: %+v", len(logs), partitions*3, logs)
	}
	if err := faults.CompareReplicaLogs(logs, committed); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed node %d, stopped node %d (the controller then); committed offsets %v", killed, stopped, committed)
}

// assertAdvertisesSeeds checks that the cluster names its brokers by their proxies, so
// clients never bypass them.
func assertAdvertisesSeeds(t *testing.T, cl *kgo.Client, seeds []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var advertised []string
	for _, b := range md.Brokers {
		advertised = append(advertised, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))))
	}
	slices.Sort(advertised)
	want := slices.Sorted(slices.Values(seeds))
	if !slices.Equal(advertised, want) {
		t.Fatalf("brokers advertised at %v, want the proxies %v", advertised, want)
	}
}

func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32, replicas int16) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, replicas, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating %s: %v", topic, err)
	}
}

// produceCounting writes n records to topic, each acknowledged before the next, and
// raises committed[partition] past every acknowledged offset.
func produceCounting(t *testing.T, cl *kgo.Client, topic string, n int, committed map[int32]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failoverTimeout)
	defer cancel()
	for i := range n {
		r := &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("producing record %d: %v", i, err)
		}
		committed[r.Partition] = max(committed[r.Partition], r.Offset+1)
	}
}

func waitPartitions(t *testing.T, pc *faults.ProcessCluster, topic string, timeout time.Duration, what string, cond func([]faults.PartitionState) bool) []faults.PartitionState {
	t.Helper()
	states, err := pc.WaitPartitions(topic, timeout, what, cond)
	if err != nil {
		t.Fatal(err)
	}
	return states
}

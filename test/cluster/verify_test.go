package cluster_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/lab"
	"github.com/waybill/waybill/internal/testbroker"
)

// Bounds shared by the tests of the package.
const (
	readBackTimeout = 30 * time.Second // the final read of a topic
	flushTimeout    = 30 * time.Second // the producer's last outcomes
	failoverTimeout = 15 * time.Second // a new leader after a kill or a stop
	rejoinTimeout   = 30 * time.Second // a restarted node back in every ISR
)

// readBackAndCheck reads the recorder's topic to its end from the cluster as the final
// read and judges the history with the lab's checker.
func readBackAndCheck(t *testing.T, rec *lab.Recorder, pc *testbroker.ProcessCluster) lab.Result {
	t.Helper()
	topic := rec.History().Topic
	if err := lab.ReadFinal(context.Background(), rec, strings.Join(pc.Addrs(), ","), topic, false, readBackTimeout); err != nil {
		t.Fatalf("reading %s back: %v", topic, err)
	}
	return lab.Check(rec.History())
}

// assertEveryAckOnce fails the test unless every acknowledged value is in the final read
// exactly once, each producer's values in their send order, no read returned a value
// that failed or was never sent, and reads and acks agree on every offset.
func assertEveryAckOnce(t *testing.T, res lab.Result, allowed ...lab.Anomaly) {
	t.Helper()
	for _, a := range lab.Anomalies {
		if n := res.Counts[a]; n > 0 && !slices.Contains(allowed, a) {
			t.Errorf("%s: %d, e.g. %v", a, n, res.Examples[a])
		}
	}
	if res.Stored < res.Acked {
		t.Errorf("the final read found %d distinct values, fewer than the %d acknowledged", res.Stored, res.Acked)
	}
}

// endOffsets lists topic's high watermarks from the cluster.
func endOffsets(t *testing.T, pc *testbroker.ProcessCluster, topic string) map[int32]int64 {
	t.Helper()
	cl := testbroker.OpenClient(t, pc.Addrs()[0], kgo.SeedBrokers(pc.Addrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readBackTimeout)
	defer cancel()
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		t.Fatalf("listing the end offsets of %s: %v", topic, err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends
}

// compareReplicas stops every node gracefully and compares, for each partition of the
// topics, the logs of its replicas in the ISR the metadata last showed: the same batches
// (base and last offset, leader epoch, CRC) up to the smallest end among them, which must
// reach the high watermark.
func compareReplicas(t *testing.T, pc *testbroker.ProcessCluster, topics ...string) {
	t.Helper()
	states := map[string][]testbroker.PartitionState{}
	hws := map[string]map[int32]int64{}
	for _, topic := range topics {
		states[topic] = pc.WaitPartitions(topic, rejoinTimeout, "every replica of "+topic+" in sync before the comparison", pc.FullyInSync)
		hws[topic] = endOffsets(t, pc, topic)
	}
	pc.StopAll()
	for _, topic := range topics {
		for _, s := range states[topic] {
			hw := hws[topic][s.Partition]
			logs, err := pc.CompareReplicaLogs(topic, s.Partition, s.ISR, hw)
			if err != nil {
				t.Error(err)
				continue
			}
			t.Logf("%s-%d: replicas on %v identical: %d batches below the high watermark %d (log ends %v)",
				topic, s.Partition, s.ISR, countBelow(logs[0], hw), hw, faults.LogEnds(logs))
		}
	}
}

func countBelow(rl faults.ReplicaLog, end int64) int {
	n := 0
	for _, b := range rl.Batches {
		if b.BaseOffset < end {
			n++
		}
	}
	return n
}

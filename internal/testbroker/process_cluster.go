package testbroker

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/faults"
)

// ProcessClusterOptions configures StartProcessCluster.
type ProcessClusterOptions struct {
	// BrokerConfig holds broker configs for every node by their Kafka names, over the
	// defaults of faults.ProcessClusterConfig.
	BrokerConfig map[string]string
}

// PartitionState is one partition as the metadata shows it.
type PartitionState = faults.PartitionState

// ProcessCluster is a faults.ProcessCluster for one test: its methods fail the test
// instead of returning errors, every node is killed when the test ends, and the tails of
// their stderr (all runs) are logged if the test failed or WAYBILL_TEST_LOG is set.
// Nodes are named by their node id, 1 to n; Addr and Addrs are the brokers' own
// listeners, bypassing the proxies.
type ProcessCluster struct {
	t  testing.TB
	pc *faults.ProcessCluster
}

// StartProcessCluster starts n nodes of binary (see BuildBinary) and waits until every
// node sees all n brokers registered and unfenced (see faults.StartProcessCluster).
func StartProcessCluster(t testing.TB, binary string, n int, opts ProcessClusterOptions) *ProcessCluster {
	t.Helper()
	cfg := faults.ProcessClusterConfig{Binary: binary, Dir: t.TempDir(), Nodes: n, BrokerConfig: opts.BrokerConfig}
	wrapper := &ProcessCluster{t: t}
	t.Cleanup(func() {
		if wrapper.pc != nil {
			if err := wrapper.pc.Close(); err != nil {
				t.Error(err)
			}
		}
		if t.Failed() || os.Getenv("WAYBILL_TEST_LOG") != "" {
			for i := range n {
				id := int32(i + 1)
				starts := 0
				if wrapper.pc != nil {
					starts = wrapper.pc.Node(id).Starts()
				}
				LogStderrTail(t, fmt.Sprintf("node %d", id), cfg.StderrPath(id), starts)
			}
		}
	})
	pc, err := faults.StartProcessCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wrapper.pc = pc
	return wrapper
}

// Cluster is the faults.ProcessCluster underneath, whose methods return errors.
func (w *ProcessCluster) Cluster() *faults.ProcessCluster { return w.pc }

// IDs lists the node ids, 1 to n.
func (w *ProcessCluster) IDs() []int32 { return w.pc.Nodes() }

// Addr is node id's Kafka listener.
func (w *ProcessCluster) Addr(id int32) string { return w.node(id).BrokerAddr() }

// Addrs lists every node's Kafka listener, by node id.
func (w *ProcessCluster) Addrs() []string {
	var addrs []string
	for _, id := range w.pc.Nodes() {
		addrs = append(addrs, w.Addr(id))
	}
	return addrs
}

func (w *ProcessCluster) node(id int32) *faults.ProcessNode {
	w.t.Helper()
	n := w.pc.Node(id)
	if n == nil {
		w.t.Fatalf("no node %d in the cluster", id)
	}
	return n
}

// DataDir is node id's data directory, kept across kills and restarts.
func (w *ProcessCluster) DataDir(id int32) string { return w.pc.DataDir(id) }

// Running reports whether node id's process is alive.
func (w *ProcessCluster) Running(id int32) bool { return w.pc.Running(id) }

// Kill sends SIGKILL to node id and waits for the process to be gone.
func (w *ProcessCluster) Kill(id int32) {
	w.t.Helper()
	w.check(w.pc.Kill(id))
}

// Stop sends SIGTERM to node id, a controlled shutdown, and waits (bounded) for the
// process to exit.
func (w *ProcessCluster) Stop(id int32) {
	w.t.Helper()
	w.check(w.pc.Stop(id))
}

// StopAll stops every running node gracefully, all at once, and waits for them.
func (w *ProcessCluster) StopAll() {
	w.t.Helper()
	w.check(w.pc.StopAll())
}

// Restart starts node id again, after Kill or Stop, on the same ports and data directory,
// and waits until it answers /readyz.
func (w *ProcessCluster) Restart(id int32) {
	w.t.Helper()
	w.check(w.pc.Start(id))
}

func (w *ProcessCluster) check(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// WaitPartitions waits until every running node agrees on topic's partitions and cond
// holds for them, failing the test after timeout; it returns the partitions cond
// accepted.
func (w *ProcessCluster) WaitPartitions(topic string, timeout time.Duration, what string, cond func([]PartitionState) bool) []PartitionState {
	w.t.Helper()
	states, err := w.pc.WaitPartitions(topic, timeout, what, cond)
	w.check(err)
	return states
}

// FullyInSync is a WaitPartitions condition: every partition has a running leader and all
// its replicas in the ISR.
func (w *ProcessCluster) FullyInSync(states []PartitionState) bool { return w.pc.FullyInSync(states) }

// CompareReplicaLogs checks, once every node is stopped (StopAll), that the replicas of
// topic-index on the given nodes (the partition's last ISR) agree up to the committed
// offset, as faults.CompareReplicaLogs does, and returns their logs.
func (w *ProcessCluster) CompareReplicaLogs(topic string, index int32, isr []int32, committed int64) ([]faults.ReplicaLog, error) {
	if len(isr) == 0 {
		return nil, fmt.Errorf("%s-%d: no replica to compare", topic, index)
	}
	all, err := w.pc.ReplicaLogs(topic, index+1)
	if err != nil {
		return nil, err
	}
	var logs []faults.ReplicaLog
	for _, rl := range all {
		if rl.Partition == index && slices.Contains(isr, rl.Node) {
			logs = append(logs, rl)
		}
	}
	if len(logs) != len(isr) {
		return logs, fmt.Errorf("%s-%d: replicas on nodes %v, want one on each of %v", topic, index, faults.LogEnds(logs), isr)
	}
	if err := faults.CompareReplicaLogs(logs, map[int32]int64{index: committed}); err != nil {
		return logs, fmt.Errorf("%s: %w", topic, err)
	}
	return logs, nil
}

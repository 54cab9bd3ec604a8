package testbroker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/peer"
)

// Process cluster timeouts: every wait of the harness is bounded by one of these.
const (
	// processClusterUpTimeout bounds the wait, after every node answered /readyz, until
	// each sees all brokers registered and unfenced.
	processClusterUpTimeout = 30 * time.Second
	// processStopTimeout bounds a graceful stop: the controlled shutdown (10 s at most
	// when the controller cannot be reached) and the close after it.
	processStopTimeout = 20 * time.Second
	// processRequestTimeout bounds one request of the harness to one node.
	processRequestTimeout = 2 * time.Second
)

// ProcessClusterOptions configures StartProcessCluster.
type ProcessClusterOptions struct {
	// BrokerConfig holds broker configs for every node by their Kafka names, over the
	// cluster's defaults: broker.heartbeat.interval.ms=100 and
	// broker.session.timeout.ms=1500 (a killed broker is fenced within about 1.5 s) and
	// group.initial.rebalance.delay.ms=0.
	BrokerConfig map[string]string
}

// ProcessCluster is n `waybill serve` child processes forming one cluster on 127.0.0.1:
// every node a voter of the metadata quorum when n is 1, 3 or 5 (otherwise the first 1, 3
// or 5 are voters and the rest brokers), each with its own data directory, its ports kept
// across kills and restarts. Nodes are named by their node id, 1 to n. Every node is
// killed when the test ends; the tails of their stderr (all runs) are logged if the test
// failed or WAYBILL_TEST_LOG is set.
type ProcessCluster struct {
	t     testing.TB
	nodes []*clusterProcess // nodes[id-1]
}

// clusterProcess is one node of a ProcessCluster.
type clusterProcess struct {
	id         int32
	dataDir    string
	stderrPath string
	node       *faults.ProcessNode // nil until its first start succeeded
	peer       *peer.Client        // requests of the harness to its Kafka listener
}

// StartProcessCluster starts n nodes of binary (see BuildBinary) at once, since voters
// wait for each other, and waits until every node answers /readyz and sees all n brokers
// registered and unfenced. Controller ports are chosen before any node starts, so that
// each knows the others'.
func StartProcessCluster(t testing.TB, binary string, n int, opts ProcessClusterOptions) *ProcessCluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("a process cluster needs at least one node, not %d", n)
	}
	root := t.TempDir()
	controllers := make([]string, n)
	for i := range controllers {
		addr, err := faults.FreeLocalAddr()
		if err != nil {
			t.Fatal(err)
		}
		controllers[i] = addr
	}
	voters := 1
	if n >= 5 {
		voters = 5
	} else if n >= 3 {
		voters = 3
	}
	var quorum []string
	for i := range voters {
		quorum = append(quorum, fmt.Sprintf("%d@%s", i+1, controllers[i]))
	}
	config := map[string]string{
		"broker.heartbeat.interval.ms":     "100",
		"broker.session.timeout.ms":        "1500",
		"group.initial.rebalance.delay.ms": "0",
	}
	maps.Copy(config, opts.BrokerConfig)

	pc := &ProcessCluster{t: t}
	stderrs := make([]*os.File, n)
	t.Cleanup(func() {
		for _, cp := range pc.nodes {
			if cp.node != nil {
				if err := cp.node.Close(); err != nil {
					t.Error(err)
				}
			}
			if cp.peer != nil {
				cp.peer.Close()
			}
		}
		for _, f := range stderrs {
			if f != nil {
				f.Close()
			}
		}
		if t.Failed() || os.Getenv("WAYBILL_TEST_LOG") != "" {
			for _, cp := range pc.nodes {
				starts := 0
				if cp.node != nil {
					starts = cp.node.Starts()
				}
				logStderrTail(t, fmt.Sprintf("node %d", cp.id), cp.stderrPath, starts)
			}
		}
	})

	cfgs := make([]faults.ProcessConfig, n)
	for i := range n {
		id := int32(i + 1)
		dir := filepath.Join(root, fmt.Sprintf("node-%d", id))
		cp := &clusterProcess{id: id, dataDir: filepath.Join(dir, "data"), stderrPath: filepath.Join(dir, "stderr.log")}
		pc.nodes = append(pc.nodes, cp)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(cp.stderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		stderrs[i] = f
		cfgs[i] = faults.ProcessConfig{
			Binary:       binary,
			Dir:          cp.dataDir,
			BrokerConfig: config,
			Stderr:       f,
			Args: []string{"--node-id", strconv.Itoa(int(id)), "--controller-listen", controllers[i],
				"--controller-quorum", strings.Join(quorum, ",")},
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, cp := range pc.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cp.node, errs[i] = faults.StartProcessNode(cfgs[i])
		}()
	}
	wg.Wait()
	for i, cp := range pc.nodes {
		if errs[i] != nil {
			t.Fatalf("starting node %d: %v", cp.id, errs[i])
		}
		cp.peer = peer.New(cp.node.BrokerAddr(), "waybill-test-harness", peer.DialTCP)
	}
	pc.waitUp()
	return pc
}

// waitUp waits until every node sees all nodes registered and unfenced (DescribeCluster
// v2, fenced brokers included).
func (pc *ProcessCluster) waitUp() {
	pc.t.Helper()
	var last string
	pc.WaitFor(processClusterUpTimeout, "every node to see all brokers registered and unfenced", func() (bool, string) {
		for _, cp := range pc.nodes {
			resp, err := pc.request(cp, &kmsg.DescribeClusterRequest{Version: 2, EndpointType: 1, IncludeFencedBrokers: true})
			if err != nil {
				last = fmt.Sprintf("node %d: %v", cp.id, err)
				return false, last
			}
			dc := resp.(*kmsg.DescribeClusterResponse)
			unfenced := 0
			for _, b := range dc.Brokers {
				if !b.IsFenced {
					unfenced++
				}
			}
			if err := kerr.ErrorForCode(dc.ErrorCode); err != nil || unfenced != len(pc.nodes) {
				last = fmt.Sprintf("node %d sees %d of %d brokers unfenced (error %v)", cp.id, unfenced, len(pc.nodes), err)
				return false, last
			}
		}
		return true, ""
	})
}

// WaitFor checks cond every 20 ms until it holds, failing the test after timeout with
// what was awaited and cond's last note on why it did not hold yet.
func (pc *ProcessCluster) WaitFor(timeout time.Duration, what string, cond func() (ok bool, why string)) {
	pc.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			pc.t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request sends req to one node within processRequestTimeout.
func (pc *ProcessCluster) request(cp *clusterProcess, req kmsg.Request) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), processRequestTimeout)
	defer cancel()
	return cp.peer.Request(ctx, req)
}

func (pc *ProcessCluster) node(id int32) *clusterProcess {
	pc.t.Helper()
	if id < 1 || int(id) > len(pc.nodes) {
		pc.t.Fatalf("no node %d in a cluster of %d", id, len(pc.nodes))
	}
	return pc.nodes[id-1]
}

// IDs lists the node ids, 1 to n.
func (pc *ProcessCluster) IDs() []int32 {
	ids := make([]int32, len(pc.nodes))
	for i, cp := range pc.nodes {
		ids[i] = cp.id
	}
	return ids
}

// Addr is node id's Kafka listener.
func (pc *ProcessCluster) Addr(id int32) string { return pc.node(id).node.BrokerAddr() }

// Addrs lists every node's Kafka listener, by node id.
func (pc *ProcessCluster) Addrs() []string {
	addrs := make([]string, len(pc.nodes))
	for i, cp := range pc.nodes {
		addrs[i] = cp.node.BrokerAddr()
	}
	return addrs
}

// DataDir is node id's data directory, kept across kills and restarts.
func (pc *ProcessCluster) DataDir(id int32) string { return pc.node(id).dataDir }

// Running reports whether node id's process is alive.
func (pc *ProcessCluster) Running(id int32) bool { return pc.node(id).node.Running() }

// Kill sends SIGKILL to node id and waits for the process to be gone.
func (pc *ProcessCluster) Kill(id int32) {
	pc.t.Helper()
	if err := pc.node(id).node.Kill(); err != nil {
		pc.t.Fatalf("node %d: %v", id, err)
	}
}

// Stop sends SIGTERM to node id, a controlled shutdown that first moves its leaderships
// to other in-sync replicas, and waits (bounded) for the process to exit.
func (pc *ProcessCluster) Stop(id int32) {
	pc.t.Helper()
	if err := pc.node(id).node.Stop(processStopTimeout); err != nil {
		pc.t.Fatalf("node %d: %v", id, err)
	}
}

// StopAll stops every running node gracefully, all at once, and waits for them: their
// logs are then closed cleanly and can be compared (see CompareReplicaLogs).
func (pc *ProcessCluster) StopAll() {
	pc.t.Helper()
	errs := make([]error, len(pc.nodes))
	var wg sync.WaitGroup
	for i, cp := range pc.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = cp.node.Stop(processStopTimeout)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		pc.t.Fatal(err)
	}
}

// Restart starts node id again, after Kill or Stop, on the same ports and data directory,
// and waits until it answers /readyz: registered with the controller and unfenced.
func (pc *ProcessCluster) Restart(id int32) {
	pc.t.Helper()
	if err := pc.node(id).node.Start(); err != nil {
		pc.t.Fatalf("restarting node %d: %v", id, err)
	}
}

// PartitionState is one partition as the metadata shows it.
type PartitionState struct {
	Partition   int32
	Leader      int32 // -1 without one
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32 // sorted
}

// InSync reports whether node id is in the ISR.
func (ps PartitionState) InSync(id int32) bool { return slices.Contains(ps.ISR, id) }

// Partitions asks every running node for topic's metadata and returns its partitions, by
// index, once all of them give the same leader, leader epoch and ISR for every partition;
// otherwise an error says where they differ or what failed.
func (pc *ProcessCluster) Partitions(topic string) ([]PartitionState, error) {
	var agreed []PartitionState
	var from int32
	for _, cp := range pc.nodes {
		if !cp.node.Running() {
			continue
		}
		got, err := pc.partitionsOn(cp, topic)
		if err != nil {
			return nil, err
		}
		if agreed == nil {
			agreed, from = got, cp.id
			continue
		}
		if !slices.EqualFunc(agreed, got, samePartitionState) {
			return nil, fmt.Errorf("nodes %d and %d disagree on %s: %v and %v", from, cp.id, topic, agreed, got)
		}
	}
	if agreed == nil {
		return nil, errors.New("no node is running")
	}
	return agreed, nil
}

// partitionsOn asks one node for topic's metadata.
func (pc *ProcessCluster) partitionsOn(cp *clusterProcess, topic string) ([]PartitionState, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := pc.request(cp, req)
	if err != nil {
		return nil, fmt.Errorf("metadata from node %d: %w", cp.id, err)
	}
	md := resp.(*kmsg.MetadataResponse)
	if len(md.Topics) != 1 {
		return nil, fmt.Errorf("metadata from node %d: %d topics in the answer", cp.id, len(md.Topics))
	}
	if err := kerr.ErrorForCode(md.Topics[0].ErrorCode); err != nil {
		return nil, fmt.Errorf("metadata of %s from node %d: %w", topic, cp.id, err)
	}
	states := make([]PartitionState, len(md.Topics[0].Partitions))
	for _, p := range md.Topics[0].Partitions {
		if p.Partition < 0 || int(p.Partition) >= len(states) {
			return nil, fmt.Errorf("metadata of %s from node %d: partition %d of %d", topic, cp.id, p.Partition, len(states))
		}
		isr := slices.Clone(p.ISR)
		slices.Sort(isr)
		states[p.Partition] = PartitionState{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
			Replicas: slices.Clone(p.Replicas), ISR: isr}
	}
	return states, nil
}

func samePartitionState(a, b PartitionState) bool {
	return a.Partition == b.Partition && a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && slices.Equal(a.ISR, b.ISR)
}

// WaitPartitions waits until every running node agrees on topic's partitions (see
// Partitions) and cond holds for them, failing the test after timeout; it returns the
// partitions cond accepted.
func (pc *ProcessCluster) WaitPartitions(topic string, timeout time.Duration, what string, cond func([]PartitionState) bool) []PartitionState {
	pc.t.Helper()
	var states []PartitionState
	pc.WaitFor(timeout, what, func() (bool, string) {
		got, err := pc.Partitions(topic)
		if err != nil {
			return false, err.Error()
		}
		if !cond(got) {
			return false, fmt.Sprintf("partitions of %s now: %v", topic, got)
		}
		states = got
		return true, ""
	})
	return states
}

// FullyInSync is a WaitPartitions condition: every partition has a running leader and all
// its replicas in the ISR.
func (pc *ProcessCluster) FullyInSync(states []PartitionState) bool {
	for _, s := range states {
		if s.Leader < 0 || !pc.Running(s.Leader) || len(s.ISR) != len(s.Replicas) {
			return false
		}
	}
	return true
}

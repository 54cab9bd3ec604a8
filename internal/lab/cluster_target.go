package lab

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/peer"
)

// ReplicatedTarget is a Waybill cluster of several nodes that the lab starts for one cell
// and controls node by node: it kills, stops and restarts nodes, and, in process, cuts a
// node off from its peers or slows its replication. Every client reaches it through a
// cluster proxy of the cell's own (ClientNetwork), as `lab verify` reaches any cluster.
type ReplicatedTarget struct {
	nodes  clusterNodes
	name   string
	caps   Capabilities
	logger *slog.Logger

	mu      sync.Mutex
	peers   map[int32]*peer.Client // the lab's own requests to each node
	onClose []func()
}

// clusterNodes is what a ReplicatedTarget needs of its nodes, in process or as child
// processes.
type clusterNodes interface {
	ids() []int32
	addr(id int32) string // the node's address for clients, the same across restarts
	kill(id int32) error  // kill -9, or an in-process crash: no controlled shutdown
	stop(id int32) error  // SIGTERM: controlled shutdown
	start(id int32) error
	isolate(id int32) error
	slow(id int32, delay time.Duration) error
	heal(id int32) error
	powerLossAll() error
	replicaLogs(ctx context.Context, topic string, partitions int32) ([]faults.ReplicaLog, error)
	close()
}

// LabClusterConfig are the broker configs of the lab's clusters, over Kafka's defaults:
// replication factor 3 with two in-sync replicas required, as a production topic would
// have; a follower that stops fetching leaves the ISR after 1.5 s rather than 30, and a
// dead broker is fenced after 1.5 s rather than 9, so that a cell sees its fault's
// consequences in seconds.
var LabClusterConfig = map[string]string{
	"default.replication.factor":   "3",
	"min.insync.replicas":          "2",
	"replica.lag.time.max.ms":      "1500",
	"broker.heartbeat.interval.ms": "100",
	"broker.session.timeout.ms":    "1500",
}

// ClusterOptions configures a cluster target.
type ClusterOptions struct {
	Dir    string // a real directory, for the metadata quorum (and the data of processes)
	Nodes  int    // default 3
	Voters int    // nodes from node 1 voting in the metadata quorum; default all
	Logger *slog.Logger
}

func (o *ClusterOptions) defaults() {
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// NewInProcessCluster starts an in-process cluster on in-memory disks: its nodes crash
// and lose power as the fault layer makes them, and can be cut off from each other or
// slowed while their clients still reach them.
func NewInProcessCluster(o ClusterOptions) (*ReplicatedTarget, error) {
	o.defaults()
	c, err := faults.StartCluster(faults.ClusterConfig{Dir: o.Dir, Nodes: o.Nodes, Voters: o.Voters,
		BrokerConfig: LabClusterConfig, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return &ReplicatedTarget{
		nodes:  inProcessNodes{c},
		name:   fmt.Sprintf("waybill %d-node cluster in-process (in-memory disks)", o.Nodes),
		caps:   Capabilities{Nodes: o.Nodes, Crash: true, PowerLoss: true, DurableAcksConfig: true, Links: true},
		logger: o.Logger,
		peers:  map[int32]*peer.Client{},
	}, nil
}

// Cluster is the in-process cluster, for the web console; nil for processes.
func (t *ReplicatedTarget) Cluster() *faults.Cluster {
	if n, ok := t.nodes.(inProcessNodes); ok {
		return n.c
	}
	return nil
}

func (t *ReplicatedTarget) Name() string               { return t.name }
func (t *ReplicatedTarget) Capabilities() Capabilities { return t.caps }
func (t *ReplicatedTarget) Nodes() []int32             { return t.nodes.ids() }

// Bootstrap lists every node, so that clients find the cluster whichever nodes are down.
func (t *ReplicatedTarget) Bootstrap() string { return strings.Join(t.addrs(), ",") }

func (t *ReplicatedTarget) ClientNetwork() (ClientNetwork, error) {
	return faults.NewClusterProxy(t.addrs(), t.logger)
}

// addrs are the nodes' addresses for clients, in id order.
func (t *ReplicatedTarget) addrs() []string {
	var addrs []string
	for _, id := range t.nodes.ids() {
		addrs = append(addrs, t.nodes.addr(id))
	}
	return addrs
}

// Crash is a single broker's fault; on a cluster each fault picks the node it kills.
func (t *ReplicatedTarget) Crash(context.Context) error { return errUnsupported }

// PowerLoss cuts the power of every node at once: each restarts on what it had fsynced.
func (t *ReplicatedTarget) PowerLoss(context.Context) error { return t.nodes.powerLossAll() }

func (t *ReplicatedTarget) Kill(id int32) error                      { return t.nodes.kill(id) }
func (t *ReplicatedTarget) Stop(id int32) error                      { return t.nodes.stop(id) }
func (t *ReplicatedTarget) Start(id int32) error                     { return t.nodes.start(id) }
func (t *ReplicatedTarget) Isolate(id int32) error                   { return t.nodes.isolate(id) }
func (t *ReplicatedTarget) Slow(id int32, delay time.Duration) error { return t.nodes.slow(id, delay) }
func (t *ReplicatedTarget) Heal(id int32) error                      { return t.nodes.heal(id) }

// ReplicaLogs reads every replica of topic's partitions once the cluster settled
// (bounded by ctx), for the batch-by-batch comparison after a cell. It may stop the
// cluster: nothing runs on it afterwards.
func (t *ReplicatedTarget) ReplicaLogs(ctx context.Context, topic string, partitions int32) ([]faults.ReplicaLog, error) {
	return t.nodes.replicaLogs(ctx, topic, partitions)
}

func (t *ReplicatedTarget) Close() {
	t.mu.Lock()
	for _, p := range t.peers {
		p.Close()
	}
	t.peers = map[int32]*peer.Client{}
	after := t.onClose
	t.onClose = nil
	t.mu.Unlock()
	t.nodes.close()
	for _, fn := range after {
		fn()
	}
}

// OnClose has fn run once the cluster is closed.
func (t *ReplicatedTarget) OnClose(fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.onClose = append(t.onClose, fn)
}

// peer is the lab's connection to node id, for metadata it asks of that node alone.
func (t *ReplicatedTarget) peer(id int32) *peer.Client {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[id]
	if !ok {
		p = peer.New(t.nodes.addr(id), "waybill-lab", peer.DialTCP)
		t.peers[id] = p
	}
	return p
}

// others are the nodes but those given, in id order.
func (t *ReplicatedTarget) others(but ...int32) []int32 {
	var out []int32
	for _, id := range t.nodes.ids() {
		if !slices.Contains(but, id) {
			out = append(out, id)
		}
	}
	return out
}

// inProcessNodes are the nodes of a faults.Cluster.
type inProcessNodes struct{ c *faults.Cluster }

func (n inProcessNodes) ids() []int32 {
	var out []int32
	for _, node := range n.c.Nodes() {
		out = append(out, node.ID())
	}
	return out
}
func (n inProcessNodes) addr(id int32) string { return n.c.Node(id).Addr() }
func (n inProcessNodes) kill(id int32) error  { n.c.Node(id).Kill(); return nil }
func (n inProcessNodes) stop(id int32) error  { n.c.Node(id).Stop(); return nil }
func (n inProcessNodes) start(id int32) error { return n.c.Node(id).Start() }
func (n inProcessNodes) isolate(id int32) error {
	n.c.Node(id).Isolate()
	return nil
}
func (n inProcessNodes) slow(id int32, delay time.Duration) error {
	n.c.Node(id).Slow(delay)
	return nil
}
func (n inProcessNodes) heal(id int32) error { n.c.Node(id).Heal(); return nil }
func (n inProcessNodes) powerLossAll() error { return n.c.PowerLossAll() }

// replicaLogs reads the running replicas once every partition's replicas end at the
// same offset, or as they are when ctx ends (a replica still catching up would look
// divergent; one that never catches up is for the checker to tell).
func (n inProcessNodes) replicaLogs(ctx context.Context, topic string, partitions int32) ([]faults.ReplicaLog, error) {
	for {
		logs, err := n.c.ReplicaLogs(topic, partitions)
		if err != nil || settled(logs) {
			return logs, err
		}
		select {
		case <-ctx.Done():
			return logs, nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// settled reports whether every partition's replicas end at the same offset.
func settled(logs []faults.ReplicaLog) bool {
	ends := map[int32]int64{}
	for _, l := range logs {
		if end, ok := ends[l.Partition]; ok && end != l.End {
			return false
		}
		ends[l.Partition] = l.End
	}
	return true
}
func (n inProcessNodes) close() { n.c.Close() }

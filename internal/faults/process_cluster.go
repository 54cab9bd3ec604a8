package faults

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/peer"
)

// Process cluster timeouts: every wait of a ProcessCluster is bounded by one of these.
const (
	// processClusterUpTimeout bounds the wait, after every node answered /readyz, until
	// each sees all brokers registered and unfenced.
	processClusterUpTimeout = 30 * time.Second
	// processStopTimeout bounds a graceful stop: the controlled shutdown (10 s at most
	// when the controller cannot be reached) and the close after it.
	processStopTimeout = 20 * time.Second
	// processRequestTimeout bounds one request of the cluster's own to one node.
	processRequestTimeout = 2 * time.Second
)

// ProcessClusterConfig configures StartProcessCluster.
type ProcessClusterConfig struct {
	// Binary is the built waybill binary (required).
	Binary string
	// Dir is the cluster's directory (required): node i keeps its data directory in
	// Dir/node-i/data and its stderr in StderrPath(i).
	Dir string
	// Nodes is how many nodes to run (required), with ids 1 to Nodes.
	Nodes int
	// Voters is how many nodes, from node 1, vote in the metadata quorum; the rest are
	// brokers only. Default (0): 5 of five or more nodes, 3 of three or four, else 1.
	Voters int
	// BrokerConfig holds broker configs for every node by their Kafka names, over the
	// cluster's defaults: broker.heartbeat.interval.ms=100 and
	// broker.session.timeout.ms=1500 (a killed broker is fenced within about 1.5 s) and
	// group.initial.rebalance.delay.ms=0.
	BrokerConfig map[string]string
	// Logger receives the proxies' logs; nil discards them.
	Logger *slog.Logger
}

// StderrPath is node id's stderr file, every run appended. It is known before the
// cluster starts, so that a start that failed can still be diagnosed.
func (cfg ProcessClusterConfig) StderrPath(id int32) string {
	return filepath.Join(cfg.nodeDir(id), "stderr.log")
}

func (cfg ProcessClusterConfig) nodeDir(id int32) string {
	return filepath.Join(cfg.Dir, fmt.Sprintf("node-%d", id))
}

func (cfg ProcessClusterConfig) voters() int {
	switch {
	case cfg.Voters > 0:
		return cfg.Voters
	case cfg.Nodes >= 5:
		return 5
	case cfg.Nodes >= 3:
		return 3
	default:
		return 1
	}
}

// ProcessCluster is `waybill serve` child processes forming one cluster on 127.0.0.1,
// each node with its own data directory and ports, kept across kills and restarts.
// Each node is fronted by its ProcessNode proxy, and the proxies advertise each other,
// so a client given Seeds reaches every broker through that broker's proxy; the brokers
// themselves talk to each other directly.
type ProcessCluster struct {
	cfg     ProcessClusterConfig
	members []*processMember // members[id-1]
	// proxyAddrs holds each node's proxy address by id-1 once every proxy listens; the
	// proxies read it to rewrite broker addresses in responses.
	proxyAddrs atomic.Pointer[[]string]

	closeOnce sync.Once
	closeErr  error
}

// processMember is one node of a ProcessCluster.
type processMember struct {
	id     int32
	node   *ProcessNode
	stderr *os.File
	// peer sends the cluster's own requests (readiness, metadata) to the broker's
	// listener, bypassing the proxy so that rules on it do not blind the cluster.
	peer *peer.Client
}

// StartProcessCluster starts cfg.Nodes nodes at once, since voters wait for each other,
// and waits until every node answers /readyz and sees all brokers registered and
// unfenced. Controller ports are chosen before any node starts, so that each knows the
// others'. On error every node started is killed again.
//
// A port chosen free can be taken by another process before the node binds it (clusters
// started side by side pick from the same range): a start that failed so is made again
// on new ports and fresh data directories, up to portAttempts times.
func StartProcessCluster(cfg ProcessClusterConfig) (*ProcessCluster, error) {
	var err error
	for range portAttempts {
		var pc *ProcessCluster
		if pc, err = startProcessCluster(cfg); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return pc, err
		}
		for id := range int32(cfg.Nodes) {
			if rmErr := os.RemoveAll(cfg.dataDir(id + 1)); rmErr != nil {
				return nil, errors.Join(err, rmErr)
			}
		}
	}
	return nil, err
}

// portAttempts bounds the starts of a process cluster that lost a port race.
const portAttempts = 3

func startProcessCluster(cfg ProcessClusterConfig) (*ProcessCluster, error) {
	if cfg.Binary == "" || cfg.Dir == "" || cfg.Nodes < 1 {
		return nil, errors.New("faults: ProcessClusterConfig needs Binary, Dir and Nodes")
	}
	if cfg.voters() > cfg.Nodes {
		return nil, fmt.Errorf("faults: %d voters among %d nodes", cfg.voters(), cfg.Nodes)
	}
	args, err := controllerArgs(cfg)
	if err != nil {
		return nil, err
	}
	config := map[string]string{
		"broker.heartbeat.interval.ms":     "100",
		"broker.session.timeout.ms":        "1500",
		"group.initial.rebalance.delay.ms": "0",
	}
	maps.Copy(config, cfg.BrokerConfig)

	pc := &ProcessCluster{cfg: cfg}
	for i := range cfg.Nodes {
		if err := pc.addMember(int32(i+1), config, args[i]); err != nil {
			pc.Close()
			return nil, err
		}
	}
	proxies := make([]string, len(pc.members))
	for i, m := range pc.members {
		proxies[i] = m.node.Addr()
	}
	pc.proxyAddrs.Store(&proxies)
	if err := atOnce(pc.Nodes(), pc.Start); err != nil {
		pc.Close()
		return nil, err
	}
	if err := pc.waitUp(); err != nil {
		pc.Close()
		return nil, err
	}
	return pc, nil
}

// controllerArgs picks every node's controller port and returns each node's cluster
// flags: its id, its controller listener and the quorum's voters.
func controllerArgs(cfg ProcessClusterConfig) ([][]string, error) {
	controllers := make([]string, cfg.Nodes)
	for i := range controllers {
		addr, err := FreeLocalAddr()
		if err != nil {
			return nil, err
		}
		controllers[i] = addr
	}
	var quorum []string
	for i := range cfg.voters() {
		quorum = append(quorum, fmt.Sprintf("%d@%s", i+1, controllers[i]))
	}
	args := make([][]string, cfg.Nodes)
	for i := range args {
		args[i] = []string{"--node-id", strconv.Itoa(i + 1), "--controller-listen", controllers[i],
			"--controller-quorum", strings.Join(quorum, ",")}
	}
	return args, nil
}

// addMember prepares node id, its directory, stderr file, ports and proxy, without
// starting it.
func (pc *ProcessCluster) addMember(id int32, config map[string]string, args []string) error {
	if err := os.MkdirAll(pc.cfg.nodeDir(id), 0o755); err != nil {
		return err
	}
	stderr, err := os.OpenFile(pc.cfg.StderrPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	node, err := newProcessNode(ProcessConfig{
		Binary:       pc.cfg.Binary,
		Dir:          pc.DataDir(id),
		BrokerConfig: config,
		Args:         args,
		Stderr:       stderr,
		Logger:       pc.cfg.Logger,
	}, id, pc.advertise)
	if err != nil {
		stderr.Close()
		return err
	}
	pc.members = append(pc.members, &processMember{id: id, node: node, stderr: stderr,
		peer: peer.New(node.BrokerAddr(), "waybill-process-cluster", peer.DialTCP)})
	return nil
}

// advertise maps a broker named in a response to its node's proxy; a broker the cluster
// does not know passes unchanged.
func (pc *ProcessCluster) advertise(id int32, host string, port int32) (string, int32) {
	proxies := pc.proxyAddrs.Load()
	if proxies == nil || id < 1 || int(id) > len(*proxies) {
		return host, port
	}
	h, p, err := net.SplitHostPort((*proxies)[id-1])
	if err != nil {
		return host, port
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return host, port
	}
	return h, int32(n)
}

// waitUp waits until every node sees all nodes registered and unfenced (DescribeCluster
// v2, fenced brokers included).
func (pc *ProcessCluster) waitUp() error {
	return waitFor(processClusterUpTimeout, "every node to see all brokers registered and unfenced", func() (bool, string) {
		for _, m := range pc.members {
			resp, err := pc.request(m, &kmsg.DescribeClusterRequest{Version: 2, EndpointType: 1, IncludeFencedBrokers: true})
			if err != nil {
				return false, fmt.Sprintf("node %d: %v", m.id, err)
			}
			dc := resp.(*kmsg.DescribeClusterResponse)
			unfenced := 0
			for _, b := range dc.Brokers {
				if !b.IsFenced {
					unfenced++
				}
			}
			if err := kerr.ErrorForCode(dc.ErrorCode); err != nil || unfenced != len(pc.members) {
				return false, fmt.Sprintf("node %d sees %d of %d brokers unfenced (error %v)", m.id, unfenced, len(pc.members), err)
			}
		}
		return true, ""
	})
}

// waitFor checks cond every 20 ms until it holds; after timeout it gives up with what was
// awaited and cond's last note on why it did not hold yet.
func waitFor(timeout time.Duration, what string, cond func() (ok bool, why string)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("faults: timed out after %v waiting for %s: %s", timeout, what, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request sends req to one node's broker within processRequestTimeout.
func (pc *ProcessCluster) request(m *processMember, req kmsg.Request) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), processRequestTimeout)
	defer cancel()
	return m.peer.Request(ctx, req)
}

func (pc *ProcessCluster) member(id int32) (*processMember, error) {
	if id < 1 || int(id) > len(pc.members) {
		return nil, fmt.Errorf("faults: no node %d in a cluster of %d", id, len(pc.members))
	}
	return pc.members[id-1], nil
}

// Nodes lists the node ids, 1 to n.
func (pc *ProcessCluster) Nodes() []int32 {
	ids := make([]int32, len(pc.members))
	for i, m := range pc.members {
		ids[i] = m.id
	}
	return ids
}

// Node is node id's process, nil if there is no such node.
func (pc *ProcessCluster) Node(id int32) *ProcessNode {
	m, err := pc.member(id)
	if err != nil {
		return nil
	}
	return m.node
}

// Seeds lists every node's proxy address, by node id: give them to clients.
func (pc *ProcessCluster) Seeds() []string {
	seeds := make([]string, len(pc.members))
	for i, m := range pc.members {
		seeds[i] = m.node.Addr()
	}
	return seeds
}

// DataDir is node id's data directory, kept across kills and restarts.
func (pc *ProcessCluster) DataDir(id int32) string { return pc.cfg.dataDir(id) }

func (cfg ProcessClusterConfig) dataDir(id int32) string {
	return filepath.Join(cfg.nodeDir(id), "data")
}

// StderrPath is node id's stderr file, every run appended.
func (pc *ProcessCluster) StderrPath(id int32) string { return pc.cfg.StderrPath(id) }

// Running reports whether node id's process is alive.
func (pc *ProcessCluster) Running(id int32) bool {
	m, err := pc.member(id)
	return err == nil && m.node.Running()
}

// Kill sends SIGKILL to node id and waits for the process to be gone.
func (pc *ProcessCluster) Kill(id int32) error { return pc.onNode(id, "killing", (*ProcessNode).Kill) }

// Stop sends SIGTERM to node id, a controlled shutdown that first moves its leaderships
// to other in-sync replicas, and waits (bounded) for the process to exit; one that does
// not is killed and reported.
func (pc *ProcessCluster) Stop(id int32) error {
	return pc.onNode(id, "stopping", func(n *ProcessNode) error { return n.Stop(processStopTimeout) })
}

// Start starts node id again, after Kill or Stop, on the same ports and data directory,
// and waits until it answers /readyz: registered with the controller and unfenced.
func (pc *ProcessCluster) Start(id int32) error {
	return pc.onNode(id, "starting", (*ProcessNode).Start)
}

// StopAll stops every running node gracefully, all at once, and waits for them: their
// logs are then closed cleanly and can be read (ReplicaLogs). The last voter to stop
// has no quorum left for its controlled shutdown and gives it up after about 3 s.
func (pc *ProcessCluster) StopAll() error { return atOnce(pc.Nodes(), pc.Stop) }

// onNode applies fn to node id's process, naming the node and its stderr in an error.
func (pc *ProcessCluster) onNode(id int32, doing string, fn func(*ProcessNode) error) error {
	m, err := pc.member(id)
	if err != nil {
		return err
	}
	if err := fn(m.node); err != nil {
		return fmt.Errorf("faults: %s node %d (stderr in %s, ending %q): %w", doing, id, pc.StderrPath(id), lastLines(pc.StderrPath(id), 3), err)
	}
	return nil
}

// lastLines are the last n lines of the file at path, for an error that must say why a
// process failed after its files are gone.
func lastLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Close kills every node, whatever its state, and stops the proxies. Calling it again
// returns the first call's error.
func (pc *ProcessCluster) Close() error {
	pc.closeOnce.Do(func() {
		var errs []error
		for _, m := range pc.members {
			errs = append(errs, m.node.Close())
			m.peer.Close()
			errs = append(errs, m.stderr.Close())
		}
		pc.closeErr = errors.Join(errs...)
	})
	return pc.closeErr
}

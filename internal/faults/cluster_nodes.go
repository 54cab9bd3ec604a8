package faults

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/vfs"
)

// ClusterConfig configures an in-process cluster.
type ClusterConfig struct {
	// Dir is a real temporary directory; node i keeps its metadata quorum in
	// Dir/node-i/meta, on the real disk, and its partition logs on its own in-memory
	// filesystem.
	Dir   string
	Nodes int
	// Voters is how many nodes, from node 1, vote in the metadata quorum; the rest are
	// brokers only. Default (0): every node. With one voter, the quorum survives any
	// other nodes' deaths, as a fault that kills two of three replicas needs.
	Voters int
	// BrokerConfig holds broker configs by their Kafka names, for every node. Default:
	// group.initial.rebalance.delay.ms=0 and quick heartbeats (broker.heartbeat.interval.ms
	// 100, broker.session.timeout.ms 1500), so that a crashed node is noticed quickly.
	BrokerConfig map[string]string
	Logger       *slog.Logger
}

// Cluster is an in-process cluster of brokers for the faults that need precision: each
// node is fronted by its own Proxy, which it advertises (clients and the other nodes
// reach it there, across restarts), stores its partitions on an in-memory filesystem
// (Crash and PowerLoss act on it), and dials its peers through Links (Isolate).
type Cluster struct {
	Links  *Links
	nodes  []*ClusterNode
	logger *slog.Logger
}

// ClusterNode is one node of a Cluster.
type ClusterNode struct {
	id    int32
	links *Links
	proxy *Proxy

	mu      sync.Mutex // serialises restarts and Close; guards the fields below
	cfg     broker.Config
	fs      *vfs.MemFS
	b       *broker.Broker
	stopped bool
}

// StartCluster starts cfg.Nodes brokers, every one a voter of the metadata quorum, and
// waits until each is registered.
func StartCluster(cfg ClusterConfig) (*Cluster, error) {
	if cfg.Dir == "" || cfg.Nodes < 1 {
		return nil, errors.New("faults: ClusterConfig needs Dir and Nodes")
	}
	quick := map[string]string{"broker.heartbeat.interval.ms": "100", "broker.session.timeout.ms": "1500"}
	bc, logger, err := nodeSettings(cfg.BrokerConfig, cfg.Logger, quick)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Links: NewLinks(), logger: logger}
	var voters []cluster.Voter
	listeners := make([]*cluster.ControllerListener, cfg.Nodes)
	for i := range listeners {
		if listeners[i], err = cluster.ListenController("127.0.0.1:0", logger); err != nil {
			c.closeListeners(listeners)
			return nil, err
		}
		if cfg.Voters <= 0 || i < cfg.Voters {
			voters = append(voters, cluster.Voter{ID: int32(i + 1), RaftAddr: listeners[i].Addr().String()})
		}
	}
	for i := range cfg.Nodes {
		id := int32(i + 1)
		// The brokers advertise their proxies themselves: addresses pass unchanged. The
		// target comes with the broker.
		unchanged := func(_ int32, host string, port int32) (string, int32) { return host, port }
		proxy, err := newProxy("127.0.0.1:1", logger, id, unchanged)
		if err != nil {
			c.Close()
			c.closeListeners(listeners[i:])
			return nil, err
		}
		n := &ClusterNode{id: id, links: c.Links, proxy: proxy, fs: vfs.NewMem(), cfg: broker.Config{
			NodeID:     id,
			DataDir:    filepath.Join(cfg.Dir, fmt.Sprintf("node-%d", id)),
			Listen:     "127.0.0.1:0", // a new port per incarnation; the proxy hides it
			Advertise:  proxy.Addr(),
			Broker:     bc,
			Controller: listeners[i],
			Voters:     voters,
			Dial:       c.Links.Dialer(id),
			Logger:     logger.With("node", id),
		}}
		n.cfg.FS = n.fs
		proxy.Pause() // until the broker is up
		c.Links.OwnKafka(id, proxy.Addr())
		c.Links.Own(id, listeners[i].Addr().String())
		c.nodes = append(c.nodes, n)
	}
	if err := c.startAll(); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.awaitUnfenced(30 * time.Second); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// awaitUnfenced waits until every node's image shows every broker registered and
// unfenced, so that topics created next can use them all.
func (c *Cluster) awaitUnfenced(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ready := true
		for _, n := range c.nodes {
			img := n.Broker().Image()
			for _, m := range c.nodes {
				if b, ok := img.Brokers[m.id]; !ok || b.Fenced {
					ready = false
				}
			}
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("faults: the cluster's brokers were not all unfenced within %v", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *Cluster) closeListeners(ls []*cluster.ControllerListener) {
	for _, l := range ls {
		if l != nil {
			l.Close()
		}
	}
}

// Nodes are the cluster's nodes, by id from 1.
func (c *Cluster) Nodes() []*ClusterNode { return c.nodes }

// Node is the node with id.
func (c *Cluster) Node(id int32) *ClusterNode { return c.nodes[id-1] }

// Seeds are the nodes' addresses for clients.
func (c *Cluster) Seeds() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.Addr())
	}
	return out
}

// PowerLossAll is a power cut of every machine at once: all nodes stop together, then
// restart on only what each had fsynced.
func (c *Cluster) PowerLossAll() error {
	for _, n := range c.nodes {
		n.halt((*vfs.MemFS).CrashClone)
	}
	return c.startAll()
}

// startAll starts every node at once: voters wait for each other to elect a
// controller, so one at a time would not do.
func (c *Cluster) startAll() error { return atOnce(c.nodes, (*ClusterNode).Start) }

// atOnce calls fn on every item, each in its own goroutine, and joins their errors.
func atOnce[T any](items []T, fn func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(item)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops every node.
func (c *Cluster) Close() {
	for _, n := range c.nodes {
		n.Close()
	}
}

// ID is the node's id.
func (n *ClusterNode) ID() int32 { return n.id }

// Addr is the node's proxy, the same across restarts.
func (n *ClusterNode) Addr() string { return n.proxy.Addr() }

// Proxy is the node's proxy, for rules on its client traffic.
func (n *ClusterNode) Proxy() *Proxy { return n.proxy }

// Broker is the running incarnation, nil while stopped.
func (n *ClusterNode) Broker() *broker.Broker {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b
}

// Isolate cuts the node off from the other nodes (Links.Isolate); its clients still
// reach it.
func (n *ClusterNode) Isolate() { n.links.Isolate(n.id) }

// Slow holds the node's replication fetches back by delay each (Links.Slow), until Heal.
func (n *ClusterNode) Slow(delay time.Duration) { n.links.Slow(n.id, delay) }

// Heal ends Isolate and Slow.
func (n *ClusterNode) Heal() { n.links.Heal(n.id) }

// Crash is a process crash with an immediate restart on everything the node wrote.
func (n *ClusterNode) Crash() error {
	n.halt((*vfs.MemFS).Clone)
	return n.Start()
}

// PowerLoss is a machine crash with an immediate restart on what the node fsynced.
func (n *ClusterNode) PowerLoss() error {
	n.halt((*vfs.MemFS).CrashClone)
	return n.Start()
}

// Kill stops the node as a crash would (no controlled shutdown, nothing more reaches its
// peers or clients); Start brings it back on what it had written.
func (n *ClusterNode) Kill() { n.halt((*vfs.MemFS).Clone) }

// Stop shuts the node down gracefully (controlled shutdown); Start brings it back.
func (n *ClusterNode) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.b != nil {
		n.b.Close()
		n.b = nil
	}
	n.proxy.Pause()
	n.proxy.CutAll()
}

// halt takes the node off the network, replaces its filesystem by image of it, and
// stops the broker without a controlled shutdown; what the old broker writes while
// closing goes to the abandoned filesystem. The network stays cut until Start.
func (n *ClusterNode) halt(image func(*vfs.MemFS) *vfs.MemFS) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.proxy.Pause()
	n.proxy.CutAll()
	n.links.Isolate(n.id)
	n.fs = image(n.fs)
	if n.b != nil {
		n.b.Halt()
		n.b = nil
	}
}

// Start starts a stopped or killed node on its filesystem and lets traffic reach it.
func (n *ClusterNode) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return errors.New("faults: node closed")
	}
	if n.b != nil {
		return nil
	}
	cfg := n.cfg
	cfg.FS = n.fs
	n.links.Heal(n.id)
	b, err := broker.Start(cfg)
	if err != nil {
		return fmt.Errorf("faults: starting node %d: %w", n.id, err)
	}
	n.b = b
	// Later starts bind the same controller address again; the listener handed over
	// was closed with the broker.
	if n.cfg.Controller != nil {
		n.cfg.ControllerListen, n.cfg.Controller = n.cfg.Controller.Addr().String(), nil
	}
	n.proxy.SetTarget(b.Addr().String())
	n.proxy.Resume()
	return nil
}

// Close stops the node for good, abruptly: the cluster is going away with it.
func (n *ClusterNode) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopped = true
	n.proxy.Close()
	n.links.Isolate(n.id)
	if n.b != nil {
		n.b.Halt()
		n.b = nil
	}
}

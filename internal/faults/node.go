package faults

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/vfs"
)

// NodeConfig configures a Node.
type NodeConfig struct {
	// Dir is the broker's data directory, a real temporary directory (required). The
	// metadata quorum (Raft on bolt) writes Dir/meta on the real disk and fsyncs, so it
	// survives Crash and PowerLoss alike; the partition logs go to Dir/logs on the Node's
	// in-memory filesystem, which is what the crashes act on.
	Dir string
	// BrokerConfig holds broker configs by their Kafka names (config.ParseBroker), e.g.
	// "waybill.durable.acks": "false". Default: group.initial.rebalance.delay.ms=0, so
	// that tests do not wait for group rebalances.
	BrokerConfig map[string]string
	// Logger receives the broker's and the proxy's logs; nil discards them.
	Logger *slog.Logger
	// MaintenanceInterval is how often retention and producer expiry run (0: the
	// broker's default).
	MaintenanceInterval time.Duration
}

// Node is one in-process Waybill broker on an in-memory filesystem, fronted by its own
// Proxy so that its address survives restarts. Crash and PowerLoss restart it at once on
// what a process crash or a power loss would have left of its filesystem.
type Node struct {
	proxy *Proxy

	mu     sync.Mutex // serialises restarts and Close; guards the fields below
	cfg    broker.Config
	fs     *vfs.MemFS
	b      *broker.Broker
	closed bool
}

// StartNode starts a broker and its proxy.
func StartNode(cfg NodeConfig) (*Node, error) {
	if cfg.Dir == "" {
		return nil, errors.New("faults: NodeConfig.Dir is required")
	}
	bc, logger, err := nodeSettings(cfg.BrokerConfig, cfg.Logger, nil)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg: broker.Config{
			NodeID:              1,
			DataDir:             cfg.Dir,
			Listen:              "127.0.0.1:0", // a new port per incarnation; the proxy hides it
			Broker:              bc,
			Logger:              logger,
			MaintenanceInterval: cfg.MaintenanceInterval,
		},
		fs: vfs.NewMem(),
	}
	n.cfg.FS = n.fs
	if n.b, err = broker.Start(n.cfg); err != nil {
		return nil, err
	}
	if n.proxy, err = newProxy(n.b.Addr().String(), logger, n.cfg.NodeID, nil); err != nil {
		n.b.Close()
		return nil, err
	}
	return n, nil
}

// Addr is the proxy's address, the same across restarts: give it to clients.
func (n *Node) Addr() string { return n.proxy.Addr() }

// Proxy is the node's proxy, for rules on its traffic.
func (n *Node) Proxy() *Proxy { return n.proxy }

// Broker is the current incarnation (nil if the last restart failed).
func (n *Node) Broker() *broker.Broker {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b
}

// FS is the current incarnation's filesystem, for inspecting what it holds.
func (n *Node) FS() *vfs.MemFS {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fs
}

// Crash is a process crash with an immediate restart: the new broker starts on everything
// the old one wrote, synced or not, since the kernel's page cache outlives a process.
func (n *Node) Crash() error { return n.restart((*vfs.MemFS).Clone) }

// PowerLoss is a machine crash with an immediate restart: the new broker starts on only
// what the old one fsynced (MemFS.CrashClone).
func (n *Node) PowerLoss() error { return n.restart((*vfs.MemFS).CrashClone) }

// restart replaces the broker by one started on image(filesystem). The order makes sure
// that no client hears from the old broker about data the new one will not have: first
// the network goes (the proxy holds new connections and cuts the open ones), then the
// image is taken, then the old broker closes — its graceful close now writes only to the
// abandoned filesystem, so nothing it flushes counts — and only once the new broker is
// up does traffic flow again, to it.
func (n *Node) restart(image func(*vfs.MemFS) *vfs.MemFS) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("faults: node closed")
	}
	n.proxy.Pause()
	defer n.proxy.Resume()
	n.proxy.CutAll()
	img := image(n.fs)
	if n.b != nil {
		n.b.Close()
	}
	n.fs, n.b = img, nil
	cfg := n.cfg
	cfg.FS = img
	b, err := broker.Start(cfg)
	if err != nil {
		return fmt.Errorf("faults: restarting broker: %w", err)
	}
	n.b = b
	n.proxy.SetTarget(b.Addr().String())
	return nil
}

// Pause holds the node's traffic, a paused broker as the network sees it (Proxy.Pause);
// the broker itself keeps running, so its own timers (group sessions, transaction
// timeouts) go on.
func (n *Node) Pause() { n.proxy.Pause() }

// Resume ends a Pause.
func (n *Node) Resume() { n.proxy.Resume() }

// Close stops the proxy and the broker.
func (n *Node) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	n.proxy.Close()
	if n.b != nil {
		return n.b.Close()
	}
	return nil
}

// nodeSettings resolves the broker configs of a test node: group.initial.rebalance.delay.ms
// 0 so that tests do not wait for rebalances, then defaults, then the caller's values;
// and a logger that discards when none is given.
func nodeSettings(values map[string]string, logger *slog.Logger, defaults map[string]string) (config.Broker, *slog.Logger, error) {
	merged := map[string]string{"group.initial.rebalance.delay.ms": "0"}
	maps.Copy(merged, defaults)
	maps.Copy(merged, values)
	bc, err := config.ParseBroker(merged)
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return bc, logger, err
}

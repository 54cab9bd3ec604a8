// Package broker implements the Kafka APIs, one handler per API in files named by key
// (00_produce.go, 01_fetch.go, ...), over the replicas this node hosts, the metadata
// quorum and the coordinators.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/group"
	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/peer"
	"github.com/waybill/waybill/internal/replication"
	"github.com/waybill/waybill/internal/server"
	"github.com/waybill/waybill/internal/txn"
	"github.com/waybill/waybill/internal/vfs"
)

// Config configures a broker.
type Config struct {
	NodeID  int32
	DataDir string
	// Listen is the Kafka listener address; port 0 picks a free port.
	Listen string
	// Advertise is host:port given to clients; empty means the bound listener address.
	Advertise string
	Broker    config.Broker
	// Rack is broker.rack, for rack-aware replica placement.
	Rack string
	// ControllerListen is the controller listener (--controller-listen): the metadata
	// quorum's Raft and the controller APIs other brokers call. Empty keeps the quorum in
	// memory, which only a quorum of one can use.
	ControllerListen string
	// Controller is a controller listener bound beforehand (tests bind the voters' ports
	// before any node starts); it wins over ControllerListen.
	Controller *cluster.ControllerListener
	// Voters are the metadata quorum's voters (--controller-quorum); empty means this
	// node alone.
	Voters []cluster.Voter
	FS     vfs.FS
	Logger *slog.Logger
	// Dial opens this broker's connections to the other nodes (replication, the
	// controller, Raft); nil dials TCP. Tests put a fault layer here.
	Dial peer.DialFunc
	// MaintenanceInterval is how often retention and producer expiry run.
	MaintenanceInterval time.Duration
}

// Broker is one Waybill node.
type Broker struct {
	cfg      Config
	log      *slog.Logger
	meta     *cluster.Node
	replicas *replicas
	fetchers *replication.Manager // the follower side of replication
	groups   *group.Coordinator
	txns     *txn.Coordinator
	peers    *peers // clients for other brokers' Kafka listeners
	srv      *server.Server
	ctrlSrv  *server.Server // the controller listener's Kafka side; nil without one
	// controller is meta for the controller APIs, which are served before the quorum has
	// started (other voters register through them meanwhile) and answer NOT_CONTROLLER
	// until it has.
	controller  atomic.Pointer[cluster.Node]
	addr        net.Addr
	metrics     *metrics
	producerIDs producerIDs

	stop     chan struct{}
	bg       sync.WaitGroup
	stopOnce sync.Once
	// handingOver refuses produce once a controlled shutdown began (handOver).
	handingOver atomic.Bool
}

// Start opens the node's state, joins (or bootstraps) the metadata quorum, opens the
// hosted replicas and starts listening.
func Start(cfg Config) (*Broker, error) {
	if cfg.FS == nil {
		cfg.FS = vfs.Default
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaintenanceInterval <= 0 {
		cfg.MaintenanceInterval = 30 * time.Second
	}
	b := &Broker{cfg: cfg, log: cfg.Logger, metrics: newMetrics(), stop: make(chan struct{})}
	if err := cfg.FS.MkdirAll(b.logsDir()); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	b.srv = server.New(server.Config{
		MaxRequestBytes: cfg.Broker.SocketRequestMaxBytes,
		Logger:          cfg.Logger,
	}, listener{b, clientAPIs})
	addr, err := b.srv.Listen(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	b.addr = addr
	host, port, err := advertised(cfg.Advertise, addr)
	if err != nil {
		b.srv.Close()
		return nil, err
	}
	if err := b.serveControllerListener(); err != nil {
		b.srv.Close()
		return nil, err
	}
	b.replicas = newReplicas(b)
	b.peers = newPeers(cfg.NodeID, cfg.Dial)
	b.groups = group.New(b.groupConfig(), offsetsStore{b.offsetsTopic()})
	b.txns = txn.New(b.txnConfig(), txnStore{b.txnStateTopic()}, markerWriter{b}, producerIDSource{b})
	b.meta, err = cluster.Start(cluster.Config{
		NodeID:     cfg.NodeID,
		Dir:        filepath.Join(cfg.DataDir, "meta"),
		Host:       host,
		Port:       port,
		Rack:       cfg.Rack,
		RaftAddr:   cfg.ControllerListen,
		Controller: b.cfg.Controller,
		Voters:     cfg.Voters,
		Dial:       cfg.Dial,
		Defaults:   cfg.Broker,
		Logger:     cfg.Logger,
	})
	if err != nil {
		b.srv.Close()
		b.closeControllerServer()
		return nil, fmt.Errorf("starting metadata quorum: %w", err)
	}
	b.controller.Store(b.meta)
	b.metrics.followLeaderBalance(b.meta.LeaderBalanceStats)
	b.fetchers = replication.New(b.replicationConfig())
	b.meta.Watch(func(prev, next *cluster.Image) {
		b.replicas.apply(next)
		b.groups.TopicsDeleted(deletedTopics(prev, next))
	})
	b.replicas.apply(b.meta.Image())
	go func() {
		if err := b.srv.Serve(); err != nil {
			b.log.Error("listener stopped", "err", err)
		}
	}()
	b.bg.Add(3)
	go b.maintain()
	go b.expireISR()
	go b.checkpointHighWatermarks()
	b.log.Info("broker started", "node_id", cfg.NodeID, "listen", addr.String(),
		"advertise", net.JoinHostPort(host, strconv.Itoa(int(port))), "data_dir", cfg.DataDir,
		"cluster_id", b.meta.Image().ClusterID)
	return b, nil
}

// controlledShutdownTimeout bounds the controlled shutdown; a broker whose controller
// cannot be reached (the rest of the cluster is down) stops without it.
const controlledShutdownTimeout = 10 * time.Second

// Addr is the bound Kafka listener address.
func (b *Broker) Addr() net.Addr { return b.addr }

// Ready reports whether the broker serves requests: the quorum has a leader and the
// replicas are open.
func (b *Broker) Ready() bool { return b.meta != nil && b.meta.Ready() }

func (b *Broker) logsDir() string { return filepath.Join(b.cfg.DataDir, "logs") }

// Close shuts down gracefully: stop accepting, let connections finish what they read for
// a moment, then close replicas (sync, producer snapshots, clean-shutdown markers) and the
// quorum.
func (b *Broker) Close() error { return b.shutdown(true) }

// Halt stops the broker without telling the controller, as a crash would: its
// partitions keep it as leader until its session expires. The fault layer uses it to
// crash an in-process node of a cluster.
func (b *Broker) Halt() error { return b.shutdown(false) }

func (b *Broker) shutdown(controlled bool) error {
	b.stopOnce.Do(func() {
		// A controlled shutdown first, as Kafka's: leadership moves to other in-sync
		// replicas while this broker still serves, and the controller fences it, so that
		// its next incarnation registers at once instead of waiting out this session.
		if controlled {
			b.handOver()
			ctx, cancel := context.WithTimeout(context.Background(), controlledShutdownTimeout)
			if err := b.meta.ControlledShutdown(ctx); err != nil {
				b.log.Warn("controlled shutdown incomplete; stopping anyway", "err", err)
			}
			cancel()
		}
		close(b.stop)
		// The coordinators go first: they answer parked joins and syncs, which would
		// otherwise hold the connections' drain, and stop writing markers.
		b.txns.Close()
		b.groups.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.srv.Shutdown(ctx)
		cancel()
		// After the coordinators and the connections: nothing calls other brokers now.
		b.peers.close()
		b.closeControllerServer()
		b.bg.Wait()
		b.fetchers.Close()
		b.replicas.closeAll()
		if err := b.meta.Close(); err != nil {
			b.log.Error("closing metadata quorum", "err", err)
		}
	})
	return nil
}

// maintain runs retention and producer expiry on every hosted replica.
func (b *Broker) maintain() {
	b.every(b.cfg.MaintenanceInterval, func() {
		b.replicas.each(func(p *partition.Partition) {
			err := p.Maintain(int64(b.cfg.Broker.ProducerIDExpirationMs))
			if err != nil && !errors.Is(err, wlog.ErrClosed) { // closed: deleted meanwhile
				b.log.Warn("maintenance failed", "topic", p.Topic(), "partition", p.Index(), "err", err)
			}
		})
	})
}

// every runs fn every d until the broker stops; it is one of the broker's background
// goroutines (b.bg).
func (b *Broker) every(d time.Duration, fn func()) {
	defer b.bg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

func advertised(advertise string, bound net.Addr) (string, int32, error) {
	hp := advertise
	if hp == "" {
		hp = bound.String()
	}
	host, portStr, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, fmt.Errorf("advertised address %q: %w", hp, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// Listening on every interface: clients need a name that reaches this machine,
		// which is what Kafka advertises too (the canonical host name).
		if host, err = os.Hostname(); err != nil {
			return "", 0, fmt.Errorf("listening on all interfaces and no --advertise: %w", err)
		}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("advertised address %q: bad port", hp)
	}
	return host, int32(port), nil
}

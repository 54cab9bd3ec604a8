package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/peer"
)

// Config configures a metadata node. Zero values mean the stated defaults.
type Config struct {
	// NodeID is this node's id, as broker id and as Raft server id. Required, >= 0.
	NodeID int32
	// Dir holds the Raft log, stable store and snapshots (e.g. <data-dir>/meta).
	Dir string

	// Host, Port and Rack are this broker's advertised Kafka listener, registered in the
	// metadata so that every node can tell clients where it is.
	Host string
	Port int32
	Rack string

	// Defaults holds the broker configs: defaults for new topics (num.partitions,
	// log.*), internal topic settings. Zero value: config.DefaultBroker().
	Defaults config.Broker

	// Logger receives the node's and raft's logs. Default slog.Default().
	Logger *slog.Logger

	// RaftAddr, when set, is the host:port this node's Raft TCP transport listens on
	// and advertises; empty means an in-memory transport, which only a quorum of one
	// can use.
	RaftAddr string
	// Controller, when set, is the controller listener already bound (RaftAddr is then
	// ignored); the node owns it from Start on and closes it.
	Controller *ControllerListener
	// Voters is the initial voter set written at bootstrap, this node included: the
	// first 1, 3 or 5 nodes of a cluster. Empty means this node alone. It is read only
	// when Dir holds no Raft state yet.
	Voters []Voter

	// Dial opens connections to other nodes (Raft and controller APIs); nil dials TCP.
	// Tests put a fault layer here to cut a node off from its peers.
	Dial peer.DialFunc

	// SessionTimeout is broker.session.timeout.ms: the controller fences a broker whose
	// heartbeats stop for this long. Default: Defaults.BrokerSessionTimeoutMs.
	SessionTimeout time.Duration
	// HeartbeatInterval is broker.heartbeat.interval.ms. Default:
	// Defaults.BrokerHeartbeatIntervalMs.
	HeartbeatInterval time.Duration

	// StartTimeout bounds how long Start waits until this node's broker is registered and
	// unfenced. Default 10s for a single node, 2 minutes in a cluster, whose other nodes
	// may be started one after another by hand.
	StartTimeout time.Duration
	// ProposeTimeout bounds how long a proposal waits to enter the Raft log when the
	// caller's context has no deadline. Default 5s.
	ProposeTimeout time.Duration
}

// Voter is a member of the initial Raft voter set.
type Voter struct {
	ID       int32
	RaftAddr string
}

// Node is this process's member of the metadata quorum: it runs Raft over the
// metadata log, applies it to an immutable Image, and proposes controller commands.
// All methods are safe for concurrent use.
type Node struct {
	cfg    Config
	logger *slog.Logger
	fsm    *fsm

	raft       *raft.Raft
	transport  raft.Transport
	controller *ControllerListener // nil with the in-memory transport
	store      *raftboltdb.BoltStore

	leaderEvents   chan bool
	stopLeadership chan struct{}
	leadershipDone chan struct{}

	// The controller's term: broker sessions and the sweeper that fences expired ones,
	// while this node leads.
	termMu       sync.Mutex
	sessions     atomic.Pointer[brokerSessions]
	stopSweeping chan struct{}
	balance      leaderBalance // what the term's leader balancing did (leader_balance.go)

	// This broker's lifecycle (lifecycle.go).
	incarnation        UUID
	channel            *controllerChannel
	epoch              atomic.Int64 // this incarnation's broker epoch once heartbeats run
	storageFailed      atomic.Bool  // see StorageFailed
	stopHeartbeats     chan struct{}
	heartbeatsDone     chan struct{}
	stopHeartbeatsOnce sync.Once

	closeOnce sync.Once
	closed    atomic.Bool
	closeErr  error
}

const (
	defaultStartTimeout        = 10 * time.Second
	defaultClusterStartTimeout = 2 * time.Minute
	defaultProposeTimeout      = 5 * time.Second
	raftDBFile                 = "raft.db"
	snapshotsRetained          = 2
)

// Start opens (or bootstraps) the metadata quorum in cfg.Dir and returns once this
// node's broker is registered with the controller and unfenced, its metadata caught up.
//
// On a fresh Dir a voter bootstraps the quorum of cfg.Voters (or of this node alone);
// a node that is not a voter bootstraps nothing: the controller adds it to the quorum
// as a non-voter when it registers. On an existing Dir it restores the latest snapshot
// and replays the log. The same code path serves one node and many.
func Start(cfg Config) (*Node, error) {
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	began := time.Now()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{
		cfg:            cfg,
		logger:         cfg.Logger,
		fsm:            newFSM(cfg.Logger),
		leaderEvents:   make(chan bool, 8),
		stopLeadership: make(chan struct{}),
		leadershipDone: make(chan struct{}),
		incarnation:    randomUUID(),
		stopHeartbeats: make(chan struct{}),
		heartbeatsDone: make(chan struct{}),
		controller:     cfg.Controller, // ours to close from here on, whatever happens
	}
	n.channel = newControllerChannel(n)
	if err := n.openRaft(); err != nil {
		n.closeStores()
		return nil, err
	}
	go n.followLeadership()

	ctx, cancel := context.WithTimeout(context.Background(), cfg.StartTimeout)
	defer cancel()
	if err := n.joinAsBroker(ctx); err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("cluster: broker %d: %w", cfg.NodeID, err)
	}
	img := n.Image()
	n.logger.Info("metadata quorum ready", "node", cfg.NodeID, "cluster_id", img.ClusterID,
		"controller_epoch", img.ControllerEpoch, "topics", len(img.Topics),
		"metadata_version", img.Version, "took", time.Since(began).Round(time.Millisecond))
	return n, nil
}

func (cfg *Config) fillDefaults() error {
	if cfg.NodeID < 0 {
		return fmt.Errorf("cluster: node id %d is negative", cfg.NodeID)
	}
	if cfg.Dir == "" {
		return errors.New("cluster: no metadata directory")
	}
	if cfg.Defaults.NumPartitions == 0 { // zero value: ParseBroker never yields 0
		cfg.Defaults = config.DefaultBroker()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	if cfg.ProposeTimeout <= 0 {
		cfg.ProposeTimeout = defaultProposeTimeout
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = time.Duration(cfg.Defaults.BrokerSessionTimeoutMs) * time.Millisecond
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = time.Duration(cfg.Defaults.BrokerHeartbeatIntervalMs) * time.Millisecond
	}
	if cfg.HeartbeatInterval >= cfg.SessionTimeout {
		return fmt.Errorf("cluster: heartbeat interval %v must be shorter than the session timeout %v", cfg.HeartbeatInterval, cfg.SessionTimeout)
	}
	if len(cfg.Voters) == 0 {
		cfg.Voters = []Voter{{ID: cfg.NodeID, RaftAddr: cfg.RaftAddr}}
	}
	alone := len(cfg.Voters) == 1 && cfg.Voters[0].ID == cfg.NodeID
	if !alone && cfg.RaftAddr == "" && cfg.Controller == nil {
		return errors.New("cluster: a node of a quorum of several needs a controller listener (RaftAddr)")
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = defaultStartTimeout
		if !alone {
			// The other nodes may be started by hand, one after another.
			cfg.StartTimeout = defaultClusterStartTimeout
		}
	}
	return nil
}

// isVoter reports whether this node is one of the quorum's initial voters.
func (n *Node) isVoter() bool {
	for _, v := range n.cfg.Voters {
		if v.ID == n.cfg.NodeID {
			return true
		}
	}
	return false
}

func raftID(nodeID int32) raft.ServerID { return raft.ServerID(strconv.Itoa(int(nodeID))) }

// raftConfig tunes raft for the size of the quorum. A single voter has nobody to hear
// heartbeats from, so short timeouts only shorten the wait before it elects itself
// (leader within a few hundred milliseconds of start); several voters keep raft's
// defaults, which tolerate a loaded network.
func (n *Node) raftConfig() *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raftID(n.cfg.NodeID)
	c.Logger = newRaftLogger(n.logger)
	c.NotifyCh = n.leaderEvents
	if len(n.cfg.Voters) == 1 {
		c.HeartbeatTimeout = 100 * time.Millisecond
		c.ElectionTimeout = 100 * time.Millisecond
		c.LeaderLeaseTimeout = 50 * time.Millisecond
		c.CommitTimeout = 10 * time.Millisecond
	}
	return c
}

func (n *Node) openRaft() error {
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(n.cfg.Dir, raftDBFile)})
	if err != nil {
		return fmt.Errorf("cluster: opening raft log: %w", err)
	}
	n.store = store
	rlog := newRaftLogger(n.logger)
	snapshots, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.Dir, snapshotsRetained, rlog)
	if err != nil {
		return fmt.Errorf("cluster: opening snapshot store: %w", err)
	}
	transport, err := n.newTransport(rlog)
	if err != nil {
		return err
	}
	n.transport = transport

	conf := n.raftConfig()
	existing, err := raft.HasExistingState(store, store, snapshots)
	if err != nil {
		return fmt.Errorf("cluster: reading raft state: %w", err)
	}
	if !existing && n.isVoter() {
		if err := raft.BootstrapCluster(conf, store, store, snapshots, transport, n.bootstrapConfiguration(transport)); err != nil {
			return fmt.Errorf("cluster: bootstrapping quorum: %w", err)
		}
		n.logger.Info("bootstrapped metadata quorum", "dir", n.cfg.Dir, "voters", len(n.cfg.Voters))
	}
	r, err := raft.NewRaft(conf, n.fsm, store, store, snapshots, transport)
	if err != nil {
		return fmt.Errorf("cluster: starting raft: %w", err)
	}
	n.raft = r
	return nil
}

func (n *Node) newTransport(rlog *raftLogger) (raft.Transport, error) {
	if n.cfg.RaftAddr == "" && n.cfg.Controller == nil {
		_, t := raft.NewInmemTransport(raft.ServerAddress("inmem-" + strconv.Itoa(int(n.cfg.NodeID))))
		return t, nil
	}
	if n.controller == nil {
		l, err := ListenController(n.cfg.RaftAddr, n.logger)
		if err != nil {
			return nil, err
		}
		n.controller = l
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  raftStream{n.controller.raft, n.cfg.Dial},
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  rlog,
	}), nil
}

func (n *Node) bootstrapConfiguration(transport raft.Transport) raft.Configuration {
	var c raft.Configuration
	for _, v := range n.cfg.Voters {
		addr := raft.ServerAddress(v.RaftAddr)
		if v.ID == n.cfg.NodeID && (v.RaftAddr == "" || strings.HasSuffix(v.RaftAddr, ":0")) {
			addr = transport.LocalAddr() // a port chosen at bind time
		}
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: raftID(v.ID), Address: addr})
	}
	return c
}

// followLeadership reacts to raft's leadership notifications. Raft blocks on NotifyCh,
// so this loop only hands work to goroutines and never waits on raft itself.
func (n *Node) followLeadership() {
	defer close(n.leadershipDone)
	for {
		select {
		case leader := <-n.leaderEvents:
			if leader {
				go n.becomeController()
			} else {
				n.endTerm()
			}
		case <-n.stopLeadership:
			return
		}
	}
}

// becomeController runs on every election this node wins: it waits until everything
// committed before is applied (Barrier), records the cluster id if the log has none yet,
// and claims the controller role in the log.
func (n *Node) becomeController() {
	if err := n.raft.Barrier(n.cfg.ProposeTimeout).Error(); err != nil {
		n.logger.Warn("could not catch up as new metadata leader", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ProposeTimeout)
	defer cancel()
	if n.Image().ClusterID == "" {
		if _, err := n.propose(ctx, command{InitCluster: &initClusterCmd{ClusterID: randomUUID().String()}}); err != nil {
			n.logger.Warn("could not record cluster id", "err", err)
			return
		}
	}
	if _, err := n.propose(ctx, command{ClaimController: &claimControllerCmd{NodeID: n.cfg.NodeID}}); err != nil {
		n.logger.Warn("could not claim controller role", "err", err)
		return
	}
	n.beginTerm()
}

// beginTerm starts the controller's broker sessions for a term of leadership: every
// registered broker gets a full session, and a sweeper fences those that expire; and
// the leader balancing.
func (n *Node) beginTerm() {
	n.termMu.Lock()
	defer n.termMu.Unlock()
	if n.raft.State() != raft.Leader || n.closed.Load() {
		return // lost it again meanwhile; endTerm has run or will
	}
	n.endTermLocked()
	sessions := newBrokerSessions(n.Image(), n.cfg.SessionTimeout, time.Now)
	stop := make(chan struct{})
	n.sessions.Store(sessions)
	n.stopSweeping = stop
	go n.sweepSessions(sessions, stop)
	go n.balanceLeaders(stop)
}

func (n *Node) endTerm() {
	n.termMu.Lock()
	defer n.termMu.Unlock()
	n.endTermLocked()
}

func (n *Node) endTermLocked() {
	n.sessions.Store(nil)
	if n.stopSweeping != nil {
		close(n.stopSweeping)
		n.stopSweeping = nil
	}
}

// sweepSessions fences brokers whose sessions expire, checking several times per
// session timeout so that a dead broker is fenced soon after its timeout, and gives
// offline partitions that allow it an unclean leader.
func (n *Node) sweepSessions(sessions *brokerSessions, stop chan struct{}) {
	period := min(max(n.cfg.SessionTimeout/8, 10*time.Millisecond), time.Second)
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ProposeTimeout)
		n.fenceExpiredSessions(ctx, sessions)
		n.electUncleanLeaders(ctx)
		cancel()
	}
}

// joinAsBroker registers this incarnation, waits until the controller unfences it, and
// starts the heartbeats that keep it unfenced.
func (n *Node) joinAsBroker(ctx context.Context) error {
	for {
		epoch, err := n.register(ctx)
		if err != nil {
			return fmt.Errorf("registering: %w", err)
		}
		unfenced := func(r *kmsg.BrokerHeartbeatResponse) bool { return !r.IsFenced }
		err = n.heartbeatUntil(ctx, epoch, false, unfenced, nil)
		if errors.Is(err, kerr.StaleBrokerEpoch) && ctx.Err() == nil {
			// The registration this node holds was replaced while it waited (a new
			// controller after losing the answer to the first): register again.
			n.logger.Info("registration replaced while waiting to be unfenced; registering again", "broker", n.cfg.NodeID, "epoch", epoch)
			continue
		}
		if err != nil {
			return fmt.Errorf("waiting to be unfenced (epoch %d): %w", epoch, err)
		}
		n.epoch.Store(epoch)
		go n.heartbeatLoop(epoch)
		return nil
	}
}

// Ready reports whether the node can serve metadata changes: it is open and the
// quorum has a leader.
func (n *Node) Ready() bool {
	if n.closed.Load() {
		return false
	}
	addr, _ := n.raft.LeaderWithID()
	return addr != ""
}

// ControllerListener is this node's controller listener, or nil when the quorum runs in
// memory (a single node without --controller-listen).
func (n *Node) ControllerListener() *ControllerListener { return n.controller }

// NodeID returns this node's id.
func (n *Node) NodeID() int32 { return n.cfg.NodeID }

// BrokerEpoch is this incarnation's broker epoch, 0 until it has registered.
func (n *Node) BrokerEpoch() int64 { return n.epoch.Load() }

// Image returns the current metadata image. It never blocks.
func (n *Node) Image() *Image { return n.fsm.image.Load() }

// Watch registers fn to be called with every new image, in log order. fn is first
// called at once, from Watch, with an empty image and the current one (so a watcher
// misses nothing and needs no separate initial load); then after every applied change
// with the image before and after it.
//
// Later calls run on raft's apply goroutine, before the proposer of that change is
// answered, and block all further applies while they run: fn must be quick, must not
// modify the images, and must not call Watch or any method that proposes (CreateTopic
// and the like), which would deadlock. Hand longer work to another goroutine.
func (n *Node) Watch(fn func(prev, next *Image)) { n.fsm.watch(fn) }

// Close shuts raft down (no further watcher calls once it returns) and closes the log.
// It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.stopHeartbeatLoop()
		n.channel.close()
		n.closed.Store(true)
		n.endTerm()
		if n.raft != nil {
			n.closeErr = n.raft.Shutdown().Error()
		}
		close(n.stopLeadership)
		<-n.leadershipDone
		n.closeStores()
	})
	return n.closeErr
}

func (n *Node) closeStores() {
	if closer, ok := n.transport.(interface{ Close() error }); ok {
		_ = closer.Close()
	}
	if n.controller != nil {
		_ = n.controller.Close()
	}
	if n.store != nil {
		if err := n.store.Close(); err != nil && n.closeErr == nil {
			n.closeErr = err
		}
	}
}

// raftSnapshots counts the snapshots on disk (for tests and diagnostics).
func (n *Node) raftSnapshots() (int, error) {
	store, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.Dir, snapshotsRetained, newRaftLogger(n.logger))
	if err != nil {
		return 0, err
	}
	list, err := store.List()
	return len(list), err
}

// Package replication is the follower side of Kafka's ISR replication: for every leader
// this broker follows partitions of, one fetcher sends Fetch requests as a replica
// (KIP-903's replica state with this broker's epoch, each partition's current leader
// epoch and last fetched epoch), appends what comes back to the local replicas, takes
// the leader's high watermark, and truncates a replica whose log diverges from the
// leader's (KIP-279) before fetching it again. The leader's bookkeeping of its followers
// is in internal/partition (leader.go).
//
// A fetch goes out only once the previous answer is durable here when the topic has
// durable acks: the offset a follower fetches from is what it has fsynced, so the
// leader's high watermark — and an acks=all acknowledgement — counts only fsynced copies.
package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/peer"
)

// Config configures the fetchers of one broker.
type Config struct {
	NodeID int32
	// BrokerEpoch is this broker's current registration epoch, sent with every fetch
	// so that the leader can tell a stale incarnation (KIP-903).
	BrokerEpoch func() int64
	// LeaderAddr is the Kafka listener of broker id, from the metadata image.
	LeaderAddr func(id int32) (string, bool)
	// Dial opens connections to leaders; nil dials TCP.
	Dial peer.DialFunc
	// MaxWait is replica.fetch.wait.max.ms; MinBytes replica.fetch.min.bytes;
	// PartitionMaxBytes replica.fetch.max.bytes; MaxBytes
	// replica.fetch.response.max.bytes; Backoff replica.fetch.backoff.ms.
	MaxWait           time.Duration
	MinBytes          int32
	PartitionMaxBytes int32
	MaxBytes          int32
	Backoff           time.Duration
	Logger            *slog.Logger
}

// Followed is a partition replica this broker follows, as the metadata names it.
type Followed struct {
	Replica     *partition.Partition
	TopicID     [16]byte
	Leader      int32
	LeaderEpoch int32
}

// Manager runs one fetcher per leader.
type Manager struct {
	cfg Config

	mu       sync.Mutex
	fetchers map[int32]*fetcher // by leader id
	closed   bool
}

// New returns a manager with no fetchers.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.MinBytes <= 0 {
		cfg.MinBytes = 1
	}
	if cfg.PartitionMaxBytes <= 0 {
		cfg.PartitionMaxBytes = 1 << 20
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 10 << 20
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Dial == nil {
		cfg.Dial = peer.DialTCP
	}
	return &Manager{cfg: cfg, fetchers: map[int32]*fetcher{}}
}

// Follow makes f's replica fetch from f.Leader under f.LeaderEpoch, replacing whatever it
// followed before.
func (m *Manager) Follow(f Followed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.unfollowLocked(f.Replica)
	ft := m.fetchers[f.Leader]
	if ft == nil {
		ft = newFetcher(m.cfg, f.Leader)
		m.fetchers[f.Leader] = ft
	}
	ft.add(f)
}

// Unfollow stops fetching for replica (it leads now, has no leader, or was deleted).
func (m *Manager) Unfollow(replica *partition.Partition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unfollowLocked(replica)
}

func (m *Manager) unfollowLocked(replica *partition.Partition) {
	for id, ft := range m.fetchers {
		if ft.remove(replica) && ft.empty() {
			ft.stop()
			delete(m.fetchers, id)
		}
	}
}

// Close stops every fetcher and waits for them.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	fetchers := m.fetchers
	m.fetchers = map[int32]*fetcher{}
	m.mu.Unlock()
	for _, ft := range fetchers {
		ft.stop()
	}
}

// errStopped ends a fetcher's wait when it is stopped.
var errStopped = errors.New("replication: fetcher stopped")

// fetcher fetches every followed partition of one leader, in one request per round.
type fetcher struct {
	cfg    Config
	leader int32
	client *peer.Client // nil until the leader's address is known

	mu      sync.Mutex
	parts   map[*partition.Partition]*followedState
	changed chan struct{} // closed and replaced when parts change

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// followedState is one partition in a fetcher.
type followedState struct {
	Followed
	retryAt time.Time // back off after an error until then
}

func newFetcher(cfg Config, leader int32) *fetcher {
	ctx, cancel := context.WithCancel(context.Background())
	ft := &fetcher{cfg: cfg, leader: leader, parts: map[*partition.Partition]*followedState{},
		changed: make(chan struct{}), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go ft.run()
	return ft
}

func (ft *fetcher) add(f Followed) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.parts[f.Replica] = &followedState{Followed: f}
	ft.notifyLocked()
}

func (ft *fetcher) remove(replica *partition.Partition) bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if _, ok := ft.parts[replica]; !ok {
		return false
	}
	delete(ft.parts, replica)
	ft.notifyLocked()
	return true
}

func (ft *fetcher) empty() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return len(ft.parts) == 0
}

func (ft *fetcher) notifyLocked() {
	close(ft.changed)
	ft.changed = make(chan struct{})
}

// current reports whether f is still followed as it was.
func (ft *fetcher) current(f Followed) bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	s, ok := ft.parts[f.Replica]
	return ok && s.LeaderEpoch == f.LeaderEpoch
}

func (ft *fetcher) backOff(f Followed) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if s, ok := ft.parts[f.Replica]; ok && s.LeaderEpoch == f.LeaderEpoch {
		s.retryAt = time.Now().Add(ft.cfg.Backoff)
	}
}

// ready lists the partitions to fetch now, and the channel that signals a change; when
// none is ready, wait says how long until the first back-off ends.
func (ft *fetcher) ready() (parts []Followed, changed <-chan struct{}, wait time.Duration) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	now := time.Now()
	wait = time.Hour
	for _, s := range ft.parts {
		if now.Before(s.retryAt) {
			wait = min(wait, s.retryAt.Sub(now))
			continue
		}
		parts = append(parts, s.Followed)
	}
	return parts, ft.changed, wait
}

func (ft *fetcher) stop() {
	ft.cancel()
	<-ft.done
	if ft.client != nil {
		ft.client.Close()
	}
}

func (ft *fetcher) sleep(d time.Duration, changed <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ft.ctx.Done():
		return errStopped
	case <-changed:
	case <-t.C:
	}
	return nil
}

func (ft *fetcher) run() {
	defer close(ft.done)
	log := ft.cfg.Logger.With("leader", ft.leader)
	var lastErr string
	for ft.ctx.Err() == nil {
		parts, changed, wait := ft.ready()
		if len(parts) == 0 {
			if ft.sleep(wait, changed) != nil {
				return
			}
			continue
		}
		if err := ft.round(parts); err != nil {
			if errors.Is(err, errStopped) || ft.ctx.Err() != nil {
				return
			}
			if msg := err.Error(); msg != lastErr {
				log.Warn("replica fetch failed; retrying", "err", err)
				lastErr = msg
			}
			if ft.sleep(ft.cfg.Backoff, changed) != nil {
				return
			}
			continue
		}
		lastErr = ""
	}
}

// client returns the client for the leader's current address.
func (ft *fetcher) peer() (*peer.Client, error) {
	addr, ok := ft.cfg.LeaderAddr(ft.leader)
	if !ok {
		return nil, fmt.Errorf("leader %d has no known address", ft.leader)
	}
	if ft.client == nil || ft.client.Addr() != addr {
		if ft.client != nil {
			ft.client.Close()
		}
		ft.client = peer.New(addr, fmt.Sprintf("waybill-replica-%d", ft.cfg.NodeID), ft.cfg.Dial)
	}
	return ft.client, nil
}

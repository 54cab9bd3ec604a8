package group

import (
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Coordinator is the group coordinator of one broker. Its handlers are safe
// for concurrent use.
type Coordinator struct {
	cfg   Config
	store Store
	log   *slog.Logger

	mu         sync.Mutex
	partitions map[int32]*partitionState // owned partitions, loading or loaded
	groups     map[string]*group         // groups of loaded partitions
	closed     bool

	stop     chan struct{}
	sweeping sync.WaitGroup

	// nextRetentionSweep is touched only by tick, which runs on one
	// goroutine at a time (the sweep loop, or a test calling it directly).
	nextRetentionSweep time.Time
}

// partitionState is an owned __consumer_offsets partition. A fresh value is
// made by each Load, so a Load that races with Unload can tell, by pointer,
// that the partition it replayed is no longer the one being installed.
type partitionState struct {
	loading bool

	// txnGroups finds, for CompleteTxn, the groups a producer has written
	// transactional offsets to, without visiting every group. Entries may be
	// stale (the group was deleted, or the offsets were): completing a
	// group with nothing pending does nothing.
	txnGroups producerGroups

	// completedWhileLoading holds the CompleteTxn calls made during the
	// replay, which Load applies to its result.
	completedWhileLoading []txnCompletion
}

// Client identifies the connection a JoinGroup came from; Kafka reports both
// fields in DescribeGroups and prefixes member ids with the client id.
type Client struct {
	ID   string // the request header's client id
	Host string // the client's address as Kafka shows it, e.g. "/10.0.0.1"
}

// New returns a coordinator that owns no partitions yet and starts its
// deadline sweep. It panics on a contradictory Config, which is a programming
// error of the broker.
func New(cfg Config, store Store) *Coordinator {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	c := &Coordinator{
		cfg:        cfg,
		store:      store,
		log:        cfg.Logger.With("component", "group-coordinator"),
		partitions: make(map[int32]*partitionState),
		groups:     make(map[string]*group),
		stop:       make(chan struct{}),
	}
	c.nextRetentionSweep = cfg.Now().Add(cfg.OffsetsRetentionCheckInterval)
	c.sweeping.Add(1)
	go c.sweepLoop()
	return c
}

// Close stops the sweep goroutine and unloads every partition, answering
// parked JoinGroup and SyncGroup requests with NOT_COORDINATOR. Later
// requests get COORDINATOR_NOT_AVAILABLE. Close is idempotent.
func (c *Coordinator) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	owned := make([]int32, 0, len(c.partitions))
	for p := range c.partitions {
		owned = append(owned, p)
	}
	c.mu.Unlock()

	close(c.stop)
	c.sweeping.Wait()
	for _, p := range owned {
		c.Unload(p)
	}
}

func (c *Coordinator) sweepLoop() {
	defer c.sweeping.Done()
	t := time.NewTicker(c.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.tick()
		}
	}
}

// tick fires every deadline that has passed and, when due, the offset
// retention sweep.
func (c *Coordinator) tick() {
	now := c.cfg.Now()
	for _, g := range c.snapshotGroups() {
		g.mu.Lock()
		g.fireDeadlines(now)
		g.mu.Unlock()
	}
	if !now.Before(c.nextRetentionSweep) {
		c.nextRetentionSweep = now.Add(c.cfg.OffsetsRetentionCheckInterval)
		c.expireOffsets(now)
	}
}

func (c *Coordinator) snapshotGroups() []*group {
	c.mu.Lock()
	defer c.mu.Unlock()
	gs := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		gs = append(gs, g)
	}
	return gs
}

// lookup finds groupID's group, creating an Empty one when create is set and
// none exists. A nil group with a nil error means the group does not exist.
// The returned group is not locked and may turn Dead before it is.
func (c *Coordinator) lookup(groupID string, create bool) (*group, *kerr.Error) {
	p := c.PartitionFor(groupID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.partitionErrorLocked(p); err != nil {
		return nil, err
	}
	g := c.groups[groupID]
	if g == nil && create {
		g = newGroup(c, groupID, p, c.cfg.Now())
		c.groups[groupID] = g
	}
	return g, nil
}

func (c *Coordinator) partitionErrorLocked(p int32) *kerr.Error {
	if c.closed {
		return kerr.CoordinatorNotAvailable
	}
	ps := c.partitions[p]
	switch {
	case ps == nil:
		return kerr.NotCoordinator
	case ps.loading:
		return kerr.CoordinatorLoadInProgress
	}
	return nil
}

// forget drops g from the index once it is Dead. Called with g.mu held
// (lock order: group.mu, then Coordinator.mu).
func (c *Coordinator) forget(g *group) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups[g.id] == g {
		delete(c.groups, g.id)
	}
}

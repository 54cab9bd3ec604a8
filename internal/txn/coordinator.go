package txn

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Coordinator is the transaction coordinator of one broker. Its handlers are
// safe for concurrent use.
type Coordinator struct {
	cfg     Config
	store   Store
	markers Markers
	ids     ProducerIDs
	log     *slog.Logger

	mu         sync.Mutex
	partitions map[int32]*partitionState // owned partitions, loading or loaded
	txns       map[string]*transaction   // transactional ids of loaded partitions
	closed     bool

	stop        chan struct{}
	sweeping    sync.WaitGroup
	completions sync.WaitGroup // marker jobs; Add only with mu held and !closed
}

// partitionState is an owned __transaction_state partition. A fresh value is
// made by each Load; its context is canceled by Unload (and Close), which
// stops the marker jobs of its transactions and tells a transaction looked
// up before the Unload that it is no longer ours.
type partitionState struct {
	number           int32
	coordinatorEpoch int32
	loading          bool
	ctx              context.Context
	cancel           context.CancelFunc
}

// New returns a coordinator that owns no partitions yet and starts its
// background sweeps (timed-out transactions, expired transactional ids). It
// panics on an unusable Config, which is a programming error of the broker.
func New(cfg Config, store Store, markers Markers, ids ProducerIDs) *Coordinator {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	c := &Coordinator{
		cfg:        cfg,
		store:      store,
		markers:    markers,
		ids:        ids,
		log:        cfg.Logger.With("component", "txn-coordinator"),
		partitions: make(map[int32]*partitionState),
		txns:       make(map[string]*transaction),
		stop:       make(chan struct{}),
	}
	c.sweeping.Add(1)
	go c.sweepLoop()
	return c
}

// Close stops the sweeps, unloads every partition (abandoning marker jobs,
// which the next coordinator of each partition finishes) and waits for the
// marker jobs to return. Later requests get COORDINATOR_NOT_AVAILABLE. Close
// is idempotent.
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
	// A graceful stop lets the marker jobs in flight finish, markers and Complete state,
	// so that the next start does not write the same markers again; a job that cannot
	// finish (a partition gone offline) is cancelled after closeGrace.
	finished := make(chan struct{})
	go func() {
		c.completions.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(closeGrace):
	}
	for _, p := range owned {
		c.Unload(p)
	}
	c.completions.Wait()
}

// closeGrace bounds how long Close waits for marker jobs before cancelling them.
const closeGrace = 5 * time.Second

func (c *Coordinator) sweepLoop() {
	defer c.sweeping.Done()
	abort := time.NewTicker(c.cfg.AbortTimedOutCheckInterval)
	defer abort.Stop()
	expire := time.NewTicker(c.cfg.RemoveExpiredCheckInterval)
	defer expire.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-abort.C:
			c.abortTimedOut()
		case <-expire.C:
			c.removeExpired()
		}
	}
}

// lockTransaction returns id's transaction with its mutex held, or the
// error of its partition. With create, an id that does not exist is made
// (uninitialised, see newTransaction); otherwise it is (nil, nil).
func (c *Coordinator) lockTransaction(id string, create bool) (*transaction, *kerr.Error) {
	p := c.PartitionFor(id)
	for {
		c.mu.Lock()
		if err := c.partitionErrorLocked(p); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		t := c.txns[id]
		if t == nil {
			if !create {
				c.mu.Unlock()
				return nil, nil
			}
			t = newTransaction(id, c.partitions[p], c.cfg.Now())
			c.txns[id] = t
		}
		c.mu.Unlock()

		t.mu.Lock()
		switch {
		case t.unloaded():
			t.mu.Unlock()
			return nil, kerr.NotCoordinator
		case t.removed:
			t.mu.Unlock()
			continue // expired meanwhile: look again
		}
		return t, nil
	}
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

// remove drops t from the index after its tombstone was written, or when its
// initialisation failed before anything was persisted. Called with t.mu held
// (lock order: transaction.mu, then Coordinator.mu).
func (c *Coordinator) remove(t *transaction) {
	t.removed = true
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.txns[t.id] == t {
		delete(c.txns, t.id)
	}
}

// snapshotTransactions lists the loaded transactions, for the sweeps and the
// list handler, which then lock them one at a time.
func (c *Coordinator) snapshotTransactions() []*transaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := make([]*transaction, 0, len(c.txns))
	for _, t := range c.txns {
		ts = append(ts, t)
	}
	return ts
}

// backgroundContext bounds an append that no request waits for, and ends it
// early when the transaction's partition is given up.
func backgroundContext(t *transaction) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.owner.ctx, backgroundAppendTimeout)
}

// Package partition is one partition replica: it appends batches in order with the
// idempotence checks, makes them durable with group commit, moves the high watermark and
// the last stable offset, and wakes the fetches and produces waiting on them. It keeps
// the transactional state of the replica (KIP-98): the open transactions that hold the
// last stable offset back, and the aborted-transaction index that read_committed fetches
// return (see aborted_index.go and lso.go).
//
// Lock order: appendMu, then syncMu, then stateMu. appendMu serialises the append path
// (producer check → log append → producer update) and is never held during an fsync;
// syncMu is held by the group commit around an fsync and by Truncate; stateMu guards the
// offsets that waiters read and is held only for a few instructions. The aborted index
// has its own locks, taken under any of these.
package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/producers"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// Config describes a partition replica.
type Config struct {
	Topic string
	Index int32
	FS    vfs.FS
	Dir   string
	Log   wlog.Config
	// DurableAcks answers acks=1/all produces only after fsync, and hides records from
	// consumers until they are durable (waybill.durable.acks).
	DurableAcks bool
	// LogAppendTime stamps batches with the broker's time (message.timestamp.type).
	LogAppendTime bool
	LeaderEpoch   int32
	// NodeID is this broker's id: the replica leads when the leadership names it. Until
	// SetLeadership, the replica leads alone (a single node's partition).
	NodeID int32
	// OnFailure is told once when the log fails (KAFKA_STORAGE_ERROR from then on), so
	// that the broker can have its leaderships moved elsewhere.
	OnFailure func(error)
	Logger    *slog.Logger
	Now       func() time.Time
}

// Partition is a partition replica: the leader, which takes appends and tracks its
// followers (leader.go), or a follower, which appends what it copies from the leader
// (follower.go).
type Partition struct {
	cfg Config
	log *wlog.Log
	// leaderEpoch is read by fetches and offset lookups without the append lock.
	leaderEpoch atomic.Int32
	epochs      *epochCache

	appendMu  sync.Mutex
	producers *producers.State // guarded by appendMu
	aborted   *abortedIndex    // written under appendMu, read by fetches
	// markers counts the markers written per producer, guarded by appendMu: a
	// verification guard taken before a marker is stale after it (see guard.go).
	markers map[int64]uint64

	syncMu sync.Mutex // see the lock order

	stateMu  sync.Mutex
	hw       int64         // high watermark: consumers see offsets below it
	durable  int64         // end offset known to be fsynced
	lso      int64         // last stable offset: read_committed consumers see offsets below it
	unstable []unstableTxn // transactions holding the lso back, by first offset
	failure  error         // set when the log can no longer be written
	changed  chan struct{} // closed and replaced whenever hw, durable, lso or failure change
	grown    chan struct{} // closed and replaced when the log grows or the leadership changes

	// Replication state, guarded by stateMu (see leader.go and follower.go).
	role            role
	lead            Leadership
	leadershipKnown bool
	followers       map[int32]*followerState // the leader's view of each follower
	pendingISR      []int32                  // an ISR change proposed to the controller
	pendingFrom     int32                    // the partition epoch it was proposed from
	leaderHW        int64                    // a follower's copy of its leader's high watermark
	checkpointedHW  int64                    // the high watermark saved before this open
	savedHW         int64                    // the high watermark last saved
	closed          bool
	syncWake        chan struct{}
	syncDone        chan struct{}
}

// AppendResult is where a batch landed.
type AppendResult struct {
	BaseOffset    int64
	LastOffset    int64
	LogAppendTime int64 // -1 unless message.timestamp.type=LogAppendTime
	// LeaderEpoch is the leadership the batch was written under: acks=all waits for it
	// (WaitReplicated).
	LeaderEpoch int32
	// Duplicate is set when an idempotent producer retried a batch already in the log; the
	// offsets are those of the original.
	Duplicate bool
}

// ErrStorage is returned after the log failed to write or sync; the partition refuses
// writes from then on (KAFKA_STORAGE_ERROR).
var ErrStorage = errors.New("partition: log storage failed")

// ErrClosed is returned by appends to a replica that was closed (its topic deleted, or
// the broker shutting down).
var ErrClosed = errors.New("partition: closed")

// Open opens or recovers the replica's log, its producer state and its transactions.
func Open(cfg Config) (*Partition, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l, err := wlog.Open(cfg.FS, cfg.Dir, cfg.Log, cfg.Now, wlog.WithSidecar(txnIndexSidecar))
	if err != nil {
		return nil, fmt.Errorf("opening log of %s-%d: %w", cfg.Topic, cfg.Index, err)
	}
	aborted := newAbortedIndex(cfg.FS, cfg.Dir)
	ps, err := recoverState(cfg.FS, cfg.Dir, l, aborted, cfg.Logger.With("topic", cfg.Topic, "partition", cfg.Index))
	if err != nil {
		aborted.close()
		l.Close()
		return nil, fmt.Errorf("loading producer state of %s-%d: %w", cfg.Topic, cfg.Index, err)
	}
	end := l.EndOffset()
	epochs, err := loadEpochCache(cfg.FS, cfg.Dir, l)
	if err != nil {
		aborted.close()
		l.Close()
		return nil, fmt.Errorf("loading leader epochs of %s-%d: %w", cfg.Topic, cfg.Index, err)
	}
	self := []int32{cfg.NodeID}
	p := &Partition{
		cfg:       cfg,
		log:       l,
		epochs:    epochs,
		producers: ps,
		aborted:   aborted,
		// Everything recovery kept was synced or is served as Kafka would, on a replica
		// of its own; SetLeadership lowers it for a replicated partition.
		hw:             end,
		durable:        end,
		changed:        make(chan struct{}),
		grown:          make(chan struct{}),
		syncWake:       make(chan struct{}, 1),
		syncDone:       make(chan struct{}),
		role:           roleLeader,
		lead:           Leadership{Leader: cfg.NodeID, LeaderEpoch: cfg.LeaderEpoch, Replicas: self, ISR: self, MinISR: 1},
		checkpointedHW: readHWCheckpoint(cfg.FS, cfg.Dir, l.StartOffset()),
		savedHW:        -1,
	}
	p.resetTxnsLocked(ps.OpenTxns())
	p.updateLSOLocked()
	p.leaderEpoch.Store(cfg.LeaderEpoch)
	go p.syncLoop()
	return p, nil
}

// Topic and Index name the partition.
func (p *Partition) Topic() string { return p.cfg.Topic }
func (p *Partition) Index() int32  { return p.cfg.Index }

// Log exposes the replica's log for reads and offset lookups.
func (p *Partition) Log() *wlog.Log { return p.log }

// Append writes one validated batch from a client, with the idempotence checks; a
// transactional batch opens or joins its producer's transaction. Control batches are
// refused (INVALID_RECORD): markers come through AppendMarker. With durable acks the
// caller waits for WaitDurable(LastOffset+1) before acknowledging.
func (p *Partition) Append(batch []byte, h records.Header) (AppendResult, error) {
	return p.appendBatch(batch, h, func(h records.Header) (*producers.BatchInfo, error) {
		return p.producers.Check(h) // read under appendMu: Truncate replaces the state
	})
}

// WaitDurable blocks until every offset below end is fsynced (or, without durable acks,
// written), ctx ends, or the log fails.
func (p *Partition) WaitDurable(ctx context.Context, end int64) error {
	if !p.cfg.DurableAcks {
		return nil
	}
	return p.wait(ctx, func() (bool, error) {
		if p.durable >= end {
			return true, nil
		}
		return false, p.failure
	})
}

// HighWatermark is the offset below which consumers may read.
func (p *Partition) HighWatermark() int64 {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.hw
}

// Changed returns a channel closed at the next change of the high watermark or the
// last stable offset.
func (p *Partition) Changed() <-chan struct{} {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.changed
}

// Read returns whole batches from offset, below the high watermark (read_uncommitted;
// see ReadCommitted).
func (p *Partition) Read(offset int64, maxBytes int) (*wlog.Chunks, int64, error) {
	hw := p.HighWatermark()
	chunks, err := p.log.Read(offset, maxBytes, hw)
	return chunks, hw, err
}

func (p *Partition) wait(ctx context.Context, done func() (bool, error)) error {
	for {
		p.stateMu.Lock()
		ok, err := done()
		ch := p.changed
		p.stateMu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// progressed records this replica's own progress (the durable end, when durable >= 0)
// and moves the high watermark and the last stable offset as far as the role allows,
// waking waiters.
func (p *Partition) progressed(durable int64) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	moved := false
	if durable > p.durable {
		p.durable, moved = durable, true
	}
	if p.updateHWLocked() {
		moved = true
	}
	if p.updateLSOLocked() {
		moved = true
	}
	if moved {
		p.notifyLocked()
	}
}

func (p *Partition) failed() error {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.closed {
		return ErrClosed
	}
	return p.failure
}

func (p *Partition) fail(err error) {
	p.cfg.Logger.Error("partition log failed; refusing writes", "topic", p.cfg.Topic,
		"partition", p.cfg.Index, "err", err)
	p.stateMu.Lock()
	first := p.failure == nil
	if first {
		p.failure = fmt.Errorf("%w: %v", ErrStorage, err)
		p.notifyLocked()
		p.notifyGrownLocked()
	}
	p.stateMu.Unlock()
	if first && p.cfg.OnFailure != nil {
		p.cfg.OnFailure(err)
	}
}

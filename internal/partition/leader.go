package partition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/records"
)

// The leader's side of Kafka's ISR replication. The metadata says who leads, with which
// epoch, and which replicas are in sync (Leadership, from the broker's metadata image).
// The leader tracks each follower from its fetches: the offset it asked for is its log
// end (with durable acks, what it has fsynced: a follower fetches again only after its
// sync), and when it last caught up. The high watermark is the lowest log end over the
// ISR, the leader's own included (durable end with durable acks), and does not move while
// the ISR is smaller than min.insync.replicas (KIP-966's strict min ISR). ISR changes are
// proposed to the controller (AlterPartition) and take effect when the metadata brings
// them back; meanwhile a follower being added already counts for the high watermark
// (the "maximal ISR" of KIP-497), one being removed still does.

// Leadership is what the metadata says about the partition.
type Leadership struct {
	Leader         int32 // -1: none
	LeaderEpoch    int32
	PartitionEpoch int32
	Replicas       []int32
	ISR            []int32
	// MinISR is the topic's min.insync.replicas.
	MinISR int
}

type role int8

const (
	roleLeader role = iota
	roleFollower
)

// followerState is what the leader knows of one follower, from its fetches.
type followerState struct {
	end          int64 // its log end offset; -1 until it fetches under this leadership
	brokerEpoch  int64 // from its fetches (KIP-903); -1 if unknown
	lastCaughtUp time.Time
	// lastFetch and lastFetchLeaderEnd are the previous fetch's time and the leader's
	// log end then: a follower that reaches that end has been caught up since then.
	lastFetch          time.Time
	lastFetchLeaderEnd int64
}

// ISRChange is an ISR change to propose to the controller for the leadership it names.
type ISRChange struct {
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR            []int32
	BrokerEpochs   []int64 // beside ISR; -1 where unknown
}

// SetLeadership applies the metadata's view of the partition. It reports whether this
// replica's role or leader epoch changed (leader to follower, a new leader to follow, or
// a new leadership of its own), which is when coordinators and fetchers must act.
func (p *Partition) SetLeadership(l Leadership) (changed bool, err error) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	self := p.cfg.NodeID
	p.stateMu.Lock()
	first := !p.leadershipKnown
	if !first && p.lead.Leader == l.Leader && p.lead.LeaderEpoch == l.LeaderEpoch &&
		p.lead.PartitionEpoch == l.PartitionEpoch && p.lead.MinISR == l.MinISR {
		p.stateMu.Unlock()
		return false, nil // the metadata changed elsewhere
	}
	p.leadershipKnown = true
	sameTerm := !first && p.lead.Leader == l.Leader && p.lead.LeaderEpoch == l.LeaderEpoch
	if first && len(l.Replicas) > 1 {
		// A replicated partition opens with the high watermark it last had, not its
		// log end: what lies above may never have reached the other replicas.
		p.hw = min(p.hw, p.checkpointedHW)
		p.leaderHW = p.hw
	}
	p.lead = l
	p.leaderEpoch.Store(l.LeaderEpoch)
	if p.pendingISR != nil && (!sameTerm || l.PartitionEpoch != p.pendingFrom) {
		p.pendingISR = nil // committed, or overtaken by another change
	}
	now := p.cfg.Now()
	switch {
	case l.Leader == self && sameTerm:
		// An ISR change or a new replica list: keep what the followers told us.
		for _, r := range l.Replicas {
			if _, ok := p.followers[r]; !ok && r != self {
				p.followers[r] = &followerState{end: -1, brokerEpoch: -1, lastCaughtUp: now}
			}
		}
	case l.Leader == self:
		p.role = roleLeader
		p.followers = map[int32]*followerState{}
		for _, r := range l.Replicas {
			if r != self {
				// Members of the ISR get a full lag time to fetch before they are
				// judged, as in Kafka.
				p.followers[r] = &followerState{end: -1, brokerEpoch: -1, lastCaughtUp: now}
			}
		}
	default:
		p.role = roleFollower
		p.followers = nil
		p.leaderHW = p.hw
	}
	p.updateHWLocked()
	p.updateLSOLocked()
	p.notifyLocked()
	p.notifyGrownLocked()
	p.stateMu.Unlock()
	if l.Leader == self && !sameTerm {
		// The epoch begins at the log end: OffsetForLeaderEpoch answers for it before
		// its first batch, as in Kafka's makeLeader.
		if err := p.epochs.assign(l.LeaderEpoch, p.log.EndOffset()); err != nil {
			p.fail(err)
			return true, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	return !sameTerm, nil
}

// Leadership is the metadata's view of the partition, as last set.
func (p *Partition) Leadership() Leadership {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.lead
}

// leadingLocked reports whether this replica may take appends under epoch.
func (p *Partition) leadingLocked() error {
	if p.role != roleLeader {
		return fmt.Errorf("%w: %s-%d is led by %d", kerr.NotLeaderForPartition, p.cfg.Topic, p.cfg.Index, p.lead.Leader)
	}
	return nil
}

func (p *Partition) leading() error {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.leadingLocked()
}

// localEndLocked is how far this replica's own log counts: what is fsynced with durable
// acks, what is written without.
func (p *Partition) localEndLocked() int64 {
	if p.cfg.DurableAcks {
		return p.durable
	}
	return p.log.EndOffset()
}

// maximalISRLocked is the committed ISR with the members a pending change adds.
func (p *Partition) maximalISRLocked() []int32 {
	isr := p.lead.ISR
	for _, r := range p.pendingISR {
		if !slices.Contains(isr, r) {
			isr = append(slices.Clone(isr), r)
		}
	}
	return isr
}

// updateHWLocked moves the high watermark as far as the role allows; it reports whether
// it moved. It never moves back (Truncate lowers it directly).
func (p *Partition) updateHWLocked() bool {
	hw := p.localEndLocked()
	switch p.role {
	case roleFollower:
		hw = min(hw, p.leaderHW)
	case roleLeader:
		isr := p.maximalISRLocked()
		if len(isr) < max(p.lead.MinISR, 1) {
			return false
		}
		for _, r := range isr {
			if r == p.cfg.NodeID {
				continue
			}
			f := p.followers[r]
			if f == nil || f.end < 0 {
				return false
			}
			hw = min(hw, f.end)
		}
	}
	if hw <= p.hw {
		return false
	}
	p.hw = hw
	return true
}

// WaitReplicated blocks until the high watermark covers end, as acks=all needs. It fails
// with NOT_LEADER_OR_FOLLOWER when this replica stops leading under epoch (the batch may
// be cut off by the new leader), NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks
// below min.insync.replicas meanwhile, or the context's error.
func (p *Partition) WaitReplicated(ctx context.Context, end int64, epoch int32) error {
	return p.wait(ctx, func() (bool, error) {
		switch {
		case p.failure != nil:
			return false, p.failure
		case p.role != roleLeader || p.lead.LeaderEpoch != epoch:
			return false, fmt.Errorf("%w: %s-%d changed leader while waiting for its replicas", kerr.NotLeaderForPartition, p.cfg.Topic, p.cfg.Index)
		case p.hw >= end:
			return true, nil
		case len(p.lead.ISR) < p.lead.MinISR:
			return false, fmt.Errorf("%w: the ISR of %s-%d is %v, below min.insync.replicas %d", kerr.NotEnoughReplicasAfterAppend,
				p.cfg.Topic, p.cfg.Index, p.lead.ISR, p.lead.MinISR)
		}
		return false, nil
	})
}

// ReplicaFetch is a follower's fetch as the leader sees it.
type ReplicaFetch struct {
	Replica          int32
	BrokerEpoch      int64 // -1 if the request has none
	CurrentEpoch     int32 // the follower's view of the leader epoch; -1 if none
	Offset           int64
	LastFetchedEpoch int32 // -1 if none
}

// ReplicaFetchResult is the leader's verdict on a follower's fetch.
type ReplicaFetchResult struct {
	// Diverging is set when the follower's log diverges from the leader's (KIP-279):
	// it must truncate to DivergingEnd (the end of DivergingEpoch here) and fetch again.
	Diverging      bool
	DivergingEpoch int32
	DivergingEnd   int64
	// Expand is an ISR change to propose: the follower caught up and may rejoin.
	Expand *ISRChange
}

// FollowerFetched records a follower's fetch: where its log ends and whether it is
// caught up. It refuses a fetch from a replica the partition does not have
// (NOT_LEADER_OR_FOLLOWER), a stale leader epoch (FENCED_LEADER_EPOCH) or a newer one
// (UNKNOWN_LEADER_EPOCH), and an offset outside the log (OFFSET_OUT_OF_RANGE). A follower
// whose last fetched epoch ends before its offset diverges: nothing is recorded, and the
// answer says where to truncate.
func (p *Partition) FollowerFetched(f ReplicaFetch) (ReplicaFetchResult, error) {
	if err := p.CheckLeaderEpoch(f.CurrentEpoch); err != nil {
		return ReplicaFetchResult{}, err
	}
	if diverging, epoch, end := p.Diverging(f.LastFetchedEpoch, f.Offset); diverging {
		return ReplicaFetchResult{Diverging: true, DivergingEpoch: epoch, DivergingEnd: end}, nil
	}
	logEnd := p.log.EndOffset()
	if f.Offset < p.log.StartOffset() || f.Offset > logEnd {
		return ReplicaFetchResult{}, fmt.Errorf("%w: replica %d fetched %d of %s-%d, whose log spans %d-%d", kerr.OffsetOutOfRange,
			f.Replica, f.Offset, p.cfg.Topic, p.cfg.Index, p.log.StartOffset(), logEnd)
	}
	now := p.cfg.Now()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if err := p.leadingLocked(); err != nil {
		return ReplicaFetchResult{}, err
	}
	fs := p.followers[f.Replica]
	if fs == nil {
		return ReplicaFetchResult{}, fmt.Errorf("%w: broker %d is not a replica of %s-%d", kerr.NotLeaderForPartition, f.Replica, p.cfg.Topic, p.cfg.Index)
	}
	if f.BrokerEpoch >= 0 && f.BrokerEpoch < fs.brokerEpoch {
		return ReplicaFetchResult{}, fmt.Errorf("%w: fetch from broker %d's epoch %d, after its epoch %d", kerr.NotLeaderForPartition,
			f.Replica, f.BrokerEpoch, fs.brokerEpoch)
	}
	switch {
	case f.Offset >= logEnd:
		fs.lastCaughtUp = now
	case fs.end >= 0 && f.Offset >= fs.lastFetchLeaderEnd && fs.lastFetch.After(fs.lastCaughtUp):
		fs.lastCaughtUp = fs.lastFetch
	}
	fs.end, fs.brokerEpoch = f.Offset, f.BrokerEpoch
	fs.lastFetch, fs.lastFetchLeaderEnd = now, logEnd
	var res ReplicaFetchResult
	if p.shouldAddLocked(f.Replica, fs) {
		res.Expand = p.proposeLocked(append(slices.Clone(p.lead.ISR), f.Replica))
	}
	if p.updateHWLocked() {
		p.updateLSOLocked()
		p.notifyLocked()
	}
	return res, nil
}

// shouldAddLocked reports whether a follower out of the ISR may rejoin it: it reached the
// high watermark and this leadership's first offset (so it has the leader's log up to
// there), and no other change is pending.
func (p *Partition) shouldAddLocked(replica int32, fs *followerState) bool {
	if p.pendingISR != nil || slices.Contains(p.lead.ISR, replica) {
		return false
	}
	return fs.end >= p.hw && fs.end >= p.epochs.startOf(p.lead.LeaderEpoch)
}

// proposeLocked records isr as the pending change and returns it for the controller.
func (p *Partition) proposeLocked(isr []int32) *ISRChange {
	slices.Sort(isr)
	p.pendingISR, p.pendingFrom = isr, p.lead.PartitionEpoch
	c := &ISRChange{LeaderEpoch: p.lead.LeaderEpoch, PartitionEpoch: p.lead.PartitionEpoch, ISR: isr}
	for _, r := range isr {
		epoch := int64(-1)
		if fs := p.followers[r]; fs != nil {
			epoch = fs.brokerEpoch
		}
		c.BrokerEpochs = append(c.BrokerEpochs, epoch)
	}
	return c
}

// ShrinkISR proposes removing the followers that have not caught up within lagMax
// (replica.lag.time.max.ms), as Kafka's ISR expiration does; nil when none lag or a
// change is pending.
func (p *Partition) ShrinkISR(lagMax time.Duration) *ISRChange {
	now := p.cfg.Now()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.role != roleLeader || p.pendingISR != nil {
		return nil
	}
	isr := slices.DeleteFunc(slices.Clone(p.lead.ISR), func(r int32) bool {
		fs := p.followers[r]
		return r != p.cfg.NodeID && fs != nil && now.Sub(fs.lastCaughtUp) > lagMax
	})
	if len(isr) == len(p.lead.ISR) {
		return nil
	}
	p.cfg.Logger.Info("shrinking the ISR: followers did not catch up within replica.lag.time.max.ms",
		"topic", p.cfg.Topic, "partition", p.cfg.Index, "isr", p.lead.ISR, "proposed", isr, "lag", lagMax)
	return p.proposeLocked(isr)
}

// ISRChangeDone ends a proposal: the controller refused it or did not answer, so another
// may be made. An accepted change ends when the metadata brings it (SetLeadership).
func (p *Partition) ISRChangeDone(c *ISRChange) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.pendingISR != nil && slices.Equal(p.pendingISR, c.ISR) && p.pendingFrom == c.PartitionEpoch {
		p.pendingISR = nil
	}
}

// Grown returns a channel closed when the log grows or the leadership changes: what a
// follower's parked fetch waits for.
func (p *Partition) Grown() <-chan struct{} {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.grown
}

func (p *Partition) notifyGrownLocked() {
	close(p.grown)
	p.grown = make(chan struct{})
}

// ReadReplica returns whole batches from offset up to the log end, for a follower.
func (p *Partition) ReadReplica(offset int64, maxBytes int) (*wlog.Chunks, error) {
	return p.log.Read(offset, maxBytes, p.log.EndOffset())
}

// Diverging checks a fetch's last fetched epoch (KIP-279, and KIP-320 for consumers):
// when that epoch ends here before offset, or this log never had it, the fetcher's log
// diverges from this one, and must be cut at end, the end of epoch here, before it
// fetches again. -1 skips the check.
func (p *Partition) Diverging(lastFetchedEpoch int32, offset int64) (diverging bool, epoch int32, end int64) {
	if lastFetchedEpoch < 0 {
		return false, -1, -1
	}
	epoch, end = p.epochs.endOffsetFor(lastFetchedEpoch, p.log.EndOffset())
	return end < offset || epoch < lastFetchedEpoch, epoch, end
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch from the leader-epoch cache (see
// epochs.go).
func (p *Partition) EndOffsetForEpoch(epoch int32) (int32, int64) {
	return p.epochs.endOffsetFor(epoch, p.log.EndOffset())
}

// LatestEpoch is the newest leader epoch the log holds, -1 for none: a follower's last
// fetched epoch.
func (p *Partition) LatestEpoch() int32 { return p.epochs.latest() }

// Epochs lists the leader-epoch cache.
func (p *Partition) Epochs() []EpochEntry { return p.epochs.list() }

// CheckLeaderEpoch checks a request's view of the leader epoch (KIP-320): -1 skips the
// check.
func (p *Partition) CheckLeaderEpoch(current int32) error {
	epoch := p.leaderEpoch.Load()
	switch {
	case current < 0 || current == epoch:
		return nil
	case current < epoch:
		return fmt.Errorf("%w: %s-%d is at leader epoch %d, not %d", kerr.FencedLeaderEpoch, p.cfg.Topic, p.cfg.Index, epoch, current)
	default:
		return fmt.Errorf("%w: %s-%d is at leader epoch %d, not yet %d", kerr.UnknownLeaderEpoch, p.cfg.Topic, p.cfg.Index, epoch, current)
	}
}

// BatchID names one batch for comparing replicas, as Kafka's ReplicaVerificationTool
// compares them: where it lies, under which epoch, and its CRC.
type BatchID struct {
	BaseOffset  int64
	LastOffset  int64
	LeaderEpoch int32
	CRC         uint32
}

// Batches lists the batches from the log start up to (excluding) those at or past end.
func (p *Partition) Batches(end int64) ([]BatchID, error) {
	var out []BatchID
	err := p.log.Scan(p.log.StartOffset(), func(h records.Header, _ []byte) error {
		if h.BaseOffset >= end {
			return errScanDone
		}
		out = append(out, BatchID{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(), LeaderEpoch: h.PartitionLeaderEpoch, CRC: h.CRC})
		return nil
	})
	if errors.Is(err, errScanDone) {
		err = nil
	}
	return out, err
}

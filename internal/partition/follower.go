package partition

import (
	"errors"
	"fmt"
	"sort"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/records"
)

// The follower's side of replication: internal/replication fetches from the leader and
// hands the answers here. A follower appends the leader's batches as they are (offsets
// and leader epochs assigned by the leader), and replays them into the same state the
// leader keeps: producer sequences (so that a retried batch is still recognised after
// fail-over), open transactions, the aborted-transaction index and the leader-epoch
// cache. Its high watermark is the leader's, bounded by its own log end.

// ErrNotFollower refuses replicated data for a replica that no longer follows the leader
// of the fetch that brought it (the leadership changed meanwhile).
var ErrNotFollower = errors.New("partition: not a follower of that leader epoch")

// FetchPosition is where the next fetch from the leader starts: this replica's log end
// and the epoch of its last batch (KIP-279's last fetched epoch). With durable acks the
// caller first waits for WaitDurable(offset), so that the offset the leader learns is
// what this replica has fsynced.
func (p *Partition) FetchPosition() (offset int64, lastFetchedEpoch int32) {
	return p.log.EndOffset(), p.epochs.latest()
}

// AppendReplicated appends batches copied from the leader of leaderEpoch, and returns the
// new log end. Bad data from the leader (a CRC mismatch, offsets that go back) is
// refused with an error wrapping wlog.ErrInvalidBatch or wlog.ErrNotContiguous and
// changes nothing; the fetcher logs it and fetches again.
func (p *Partition) AppendReplicated(batches []byte, leaderEpoch int32) (int64, error) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	if err := p.failed(); err != nil {
		return 0, err
	}
	p.stateMu.Lock()
	following := p.role == roleFollower && p.lead.LeaderEpoch == leaderEpoch
	p.stateMu.Unlock()
	if !following {
		return 0, ErrNotFollower
	}
	var hs []records.Header
	for rest := batches; len(rest) > 0; {
		h, err := records.ParseHeader(rest)
		if err == nil && h.Size() > len(rest) {
			// A partial batch at the end of a size-limited answer: the next fetch
			// brings it whole.
			batches = batches[:len(batches)-len(rest)]
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%w: at byte %d of a fetched chunk: %v", wlog.ErrInvalidBatch, len(batches)-len(rest), err)
		}
		hs = append(hs, h)
		rest = rest[h.Size():]
	}
	if len(hs) == 0 {
		return p.log.EndOffset(), nil
	}
	// New epochs are recorded before their first batch is written (see epochs.go). An
	// epoch past the leader's own would be a confused leader: refuse it.
	for _, h := range hs {
		if h.PartitionLeaderEpoch > leaderEpoch {
			return 0, fmt.Errorf("%w: batch at %d has leader epoch %d, past its leader's %d", wlog.ErrInvalidBatch,
				h.BaseOffset, h.PartitionLeaderEpoch, leaderEpoch)
		}
		if err := p.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset); err != nil {
			p.fail(err)
			return 0, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	if err := p.log.AppendAssigned(batches); err != nil {
		if errors.Is(err, wlog.ErrInvalidBatch) || errors.Is(err, wlog.ErrNotContiguous) {
			// Nothing was written; the epochs noted for it are cut back.
			if terr := p.epochs.truncateFrom(p.log.EndOffset()); terr != nil {
				p.fail(terr)
			}
			return 0, err
		}
		p.fail(err)
		return 0, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	off := 0
	for _, h := range hs {
		batch := batches[off : off+h.Size()]
		off += h.Size()
		if err := p.replayReplicatedLocked(h, batch); err != nil {
			p.fail(err)
			return 0, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	p.published()
	return p.log.EndOffset(), nil
}

// replayReplicatedLocked brings the producer and transaction state past one appended
// batch, as the leader's append did for it.
func (p *Partition) replayReplicatedLocked(h records.Header, batch []byte) error {
	if h.HasProducer() && !h.IsControl() && h.IsTransactional() && p.producers.TxnFirstOffset(h.ProducerID) < 0 {
		p.txnOpening(h.ProducerID, h.BaseOffset)
	}
	first, commit := replayBatch(p.producers, h, batch, p.cfg.Logger)
	if !h.IsControl() || !h.HasProducer() {
		return nil
	}
	p.invalidateGuardsLocked(h.ProducerID)
	if first < 0 {
		return nil
	}
	if !commit {
		bases := p.log.SegmentBases()
		seg := bases[sort.Search(len(bases), func(i int) bool { return bases[i] > h.BaseOffset })-1]
		if err := p.aborted.add(AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.LastOffset()}, seg); err != nil {
			return err
		}
	}
	p.txnEnded(h.ProducerID, h.LastOffset())
	return nil
}

// FollowLeader takes the leader's high watermark and log start from a fetch answer. The
// high watermark is bounded by this replica's own log end; the log start moves up to
// the leader's (its retention or DeleteRecords), never past this replica's high
// watermark.
func (p *Partition) FollowLeader(leaderHW, leaderLogStart int64) error {
	p.stateMu.Lock()
	if p.role != roleFollower {
		p.stateMu.Unlock()
		return nil
	}
	moved := false
	if leaderHW > p.leaderHW {
		p.leaderHW = leaderHW
		moved = p.updateHWLocked()
		if p.updateLSOLocked() {
			moved = true
		}
	}
	if moved {
		p.notifyLocked()
	}
	hw := p.hw
	p.stateMu.Unlock()
	if start := min(leaderLogStart, hw); start > p.log.StartOffset() {
		return p.DeleteBefore(start)
	}
	return nil
}

// TruncateDiverging cuts the log where it diverges from the leader's, given the leader's
// answer to the last fetched epoch (KIP-279): leaderEpoch ends at leaderEnd on the
// leader. When this replica holds that epoch, it keeps the shorter of the two ends;
// when it does not, it cuts to the end of its own largest epoch below, and the next
// fetch checks again. It returns the new log end.
func (p *Partition) TruncateDiverging(leaderEpoch int32, leaderEnd int64) (int64, error) {
	logEnd := p.log.EndOffset()
	cut := p.HighWatermark() // the leader knows no epoch of ours: only the HW is safe
	if leaderEpoch >= 0 && leaderEnd >= 0 {
		localEpoch, localEnd := p.epochs.endOffsetFor(leaderEpoch, logEnd)
		cut = leaderEnd
		if localEpoch >= 0 {
			cut = min(leaderEnd, localEnd)
		}
	}
	if cut >= logEnd {
		return logEnd, nil
	}
	p.cfg.Logger.Info("truncating a follower's log where it diverges from the leader's", "topic", p.cfg.Topic,
		"partition", p.cfg.Index, "from", logEnd, "to", cut, "leaderEpoch", leaderEpoch, "leaderEnd", leaderEnd)
	if err := p.Truncate(cut); err != nil {
		return 0, err
	}
	return p.log.EndOffset(), nil
}

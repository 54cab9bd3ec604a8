package partition

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/producers"
	"github.com/waybill/waybill/internal/records"
)

// checkFunc decides whether a batch may be appended: nil, nil to append it; a cached
// batch to answer a retry with; or an error to refuse it (see producers.State.Check).
type checkFunc func(h records.Header) (*producers.BatchInfo, error)

// AppendCoordinator writes one validated batch on behalf of a coordinator: the group
// coordinator's transactional offset commits into __consumer_offsets (Kafka's
// AppendOrigin.COORDINATOR). Such batches carry the producer's id and epoch but no
// sequence, so only the epoch is checked; a transactional one opens or joins the
// producer's transaction like a client's. Wait as after Append.
func (p *Partition) AppendCoordinator(batch []byte, h records.Header) (AppendResult, error) {
	return p.appendBatch(batch, h, func(h records.Header) (*producers.BatchInfo, error) {
		return nil, p.producers.CheckCoordinator(h)
	})
}

// appendBatch is the produce path shared by clients and coordinators: check the
// producer, append, update the producer state and the open transactions, then hand the
// batch to the group commit (or expose it at once without durable acks).
func (p *Partition) appendBatch(batch []byte, h records.Header, check checkFunc) (AppendResult, error) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	if err := p.failed(); err != nil {
		return AppendResult{}, err
	}
	if err := p.leading(); err != nil {
		return AppendResult{}, err
	}
	if h.IsControl() {
		// Markers change the transaction state and the aborted index; only the
		// coordinator writes them, through AppendMarker.
		return AppendResult{}, fmt.Errorf("%w: control batches are written by the transaction coordinator only",
			kerr.InvalidRecord)
	}
	if h.HasProducer() {
		dup, err := check(h)
		if err != nil {
			return AppendResult{}, err
		}
		if dup != nil {
			return AppendResult{BaseOffset: dup.FirstOffset, LastOffset: dup.LastOffset,
				LogAppendTime: -1, Duplicate: true, LeaderEpoch: p.leaderEpoch.Load()}, nil
		}
	}
	now := p.cfg.Now().UnixMilli()
	epoch, err := p.appendEpoch()
	if err != nil {
		return AppendResult{}, err
	}
	res := AppendResult{LogAppendTime: -1, LeaderEpoch: epoch}
	if p.cfg.LogAppendTime {
		records.SetLogAppendTime(batch, h, now)
		res.LogAppendTime = now
	}
	// Log.Append puts the batch at the end offset, so the transaction it opens starts
	// there.
	opensTxn := h.HasProducer() && h.IsTransactional() && p.producers.TxnFirstOffset(h.ProducerID) < 0
	if opensTxn {
		p.txnOpening(h.ProducerID, p.log.EndOffset())
	}
	ar, err := p.log.Append(batch, epoch)
	if err != nil {
		if opensTxn {
			p.txnNotOpened(h.ProducerID)
		}
		p.fail(err)
		return AppendResult{}, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	res.BaseOffset, res.LastOffset = ar.BaseOffset, ar.LastOffset
	if h.HasProducer() {
		h.BaseOffset = ar.BaseOffset
		p.producers.Update(h, now)
	}
	p.published()
	return res, nil
}

// published wakes the followers' fetches for appended data, and hands it to the group
// commit, or, without durable acks, counts it at once.
func (p *Partition) published() {
	p.stateMu.Lock()
	p.notifyGrownLocked()
	p.stateMu.Unlock()
	if p.cfg.DurableAcks {
		p.wakeSync()
	} else {
		p.progressed(-1)
	}
}

// appendEpoch is the leader epoch the next batch carries, once the leader-epoch cache
// durably knows where that epoch begins. Called under appendMu.
func (p *Partition) appendEpoch() (int32, error) {
	epoch := p.leaderEpoch.Load()
	if err := p.epochs.assign(epoch, p.log.EndOffset()); err != nil {
		p.fail(err)
		return 0, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	return epoch, nil
}

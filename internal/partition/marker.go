package partition

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/records"
)

// AppendMarker writes the transaction marker (control batch) with which the transaction
// coordinator commits or aborts producerID's transaction on this partition (the
// WriteTxnMarkers request). The marker is fenced like Kafka's: an older producer epoch
// fails with INVALID_PRODUCER_EPOCH, an older coordinator epoch than the last marker's
// with TRANSACTION_COORDINATOR_FENCED; a newer producer epoch is taken, which fences the
// old one. An abort is recorded in the aborted-transaction index. A marker for a
// producer with no open transaction here is written all the same and changes nothing
// else. The caller waits WaitDurable(LastOffset+1) before treating it as written.
func (p *Partition) AppendMarker(producerID int64, epoch int16, commit bool, coordinatorEpoch int32) (AppendResult, error) {
	if producerID < 0 {
		return AppendResult{}, fmt.Errorf("%w: transaction marker for producer id %d", kerr.InvalidRecord, producerID)
	}
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	if err := p.failed(); err != nil {
		return AppendResult{}, err
	}
	if err := p.leading(); err != nil {
		return AppendResult{}, err
	}
	if err := p.producers.CheckMarker(producerID, epoch, coordinatorEpoch); err != nil {
		return AppendResult{}, err
	}
	p.invalidateGuardsLocked(producerID)
	now := p.cfg.Now().UnixMilli()
	batch := records.ControlBatch(producerID, epoch, commit, coordinatorEpoch, now)
	h, err := records.ParseHeader(batch)
	if err != nil {
		return AppendResult{}, fmt.Errorf("partition: building transaction marker: %w", err)
	}
	leaderEpoch, err := p.appendEpoch()
	if err != nil {
		return AppendResult{}, err
	}
	res := AppendResult{LogAppendTime: -1, LeaderEpoch: leaderEpoch}
	if p.cfg.LogAppendTime {
		records.SetLogAppendTime(batch, h, now)
		res.LogAppendTime = now
	}
	first := p.producers.TxnFirstOffset(producerID)
	ar, err := p.log.Append(batch, leaderEpoch)
	if err != nil {
		p.fail(err)
		return AppendResult{}, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	// The abort goes into the index of the marker's segment, known only now, before
	// the marker stops holding the LSO back (txnEnded) and before the group commit is
	// woken; the group commit syncs the index after the log. A sync round already
	// under way may make the marker durable without its entry: a crash then loses
	// only unsynced entries, above every producer snapshot, which Open's replay
	// restores (see aborted_index.go).
	if first >= 0 && !commit {
		if err := p.aborted.add(AbortedTxn{ProducerID: producerID, FirstOffset: first, LastOffset: ar.LastOffset}, ar.SegmentBase); err != nil {
			p.fail(err)
			return AppendResult{}, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	res.BaseOffset, res.LastOffset = ar.BaseOffset, ar.LastOffset
	h.BaseOffset = ar.BaseOffset
	p.producers.ApplyMarker(h, coordinatorEpoch, now)
	if first >= 0 {
		// Stops holding the LSO back once the high watermark passes the marker; the
		// abort is already in the index, so no fetch sees the records without it.
		p.txnEnded(producerID, ar.LastOffset)
	}
	p.published()
	return res, nil
}

package partition

import (
	"slices"

	"github.com/waybill/waybill/internal/producers"
)

// The last stable offset (LSO, KIP-98) is where read_committed consumers stop: the first
// offset of the earliest transaction that is still unstable, or the high watermark if
// there is none, and never above the high watermark.
//
// A transaction is unstable while it is ongoing, and also after its marker was appended
// until the high watermark passes the marker (Kafka's "unreplicated transactions"):
// until then a crash could lose the marker and reopen the transaction, so its records
// must not become visible yet. The list is kept under stateMu beside the high
// watermark, so that both move together and Changed fires for either.

// unstableTxn is a transaction that holds the LSO back.
type unstableTxn struct {
	producerID   int64
	firstOffset  int64
	markerOffset int64 // -1 while the transaction is ongoing
}

// LastStableOffset is the offset below which read_committed consumers may read.
func (p *Partition) LastStableOffset() int64 {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.lso
}

// txnOpening registers the transaction that producerID's batch about to be appended at
// first opens. It is registered before the append so that the group commit can never
// expose the batch (move the high watermark past it) while the LSO ignores it.
func (p *Partition) txnOpening(producerID, first int64) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	// Appends come in offset order, so the list stays sorted by first offset.
	p.unstable = append(p.unstable, unstableTxn{producerID: producerID, firstOffset: first, markerOffset: -1})
}

// txnNotOpened withdraws txnOpening after the append failed.
func (p *Partition) txnNotOpened(producerID int64) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	p.unstable = slices.DeleteFunc(p.unstable, func(t unstableTxn) bool {
		return t.producerID == producerID && t.markerOffset < 0
	})
}

// txnEnded records that producerID's ongoing transaction got its marker at
// markerOffset; it stops holding the LSO back once the high watermark passes the marker.
func (p *Partition) txnEnded(producerID, markerOffset int64) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	for i := range p.unstable {
		if t := &p.unstable[i]; t.producerID == producerID && t.markerOffset < 0 {
			t.markerOffset = markerOffset
		}
	}
	// The sync loop may already have moved the high watermark past the marker.
	if p.updateLSOLocked() {
		p.notifyLocked()
	}
}

// resetTxnsLocked replaces the unstable transactions by the open ones of a rebuilt
// producer state (Open, Truncate): the markers in the log are then at or below the high
// watermark, so only ongoing transactions remain.
func (p *Partition) resetTxnsLocked(open []producers.OpenTxn) {
	p.unstable = p.unstable[:0]
	for _, t := range open {
		p.unstable = append(p.unstable, unstableTxn{producerID: t.ProducerID, firstOffset: t.FirstOffset, markerOffset: -1})
	}
}

// refreshLSO recomputes the LSO after the log start moved (retention, DeleteRecords).
func (p *Partition) refreshLSO() {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.updateLSOLocked() {
		p.notifyLocked()
	}
}

// updateLSOLocked forgets the transactions whose marker the high watermark passed and
// recomputes the LSO. It reports whether the LSO moved.
func (p *Partition) updateLSOLocked() bool {
	p.unstable = slices.DeleteFunc(p.unstable, func(t unstableTxn) bool {
		return t.markerOffset >= 0 && t.markerOffset < p.hw
	})
	lso := p.hw
	if len(p.unstable) > 0 {
		// As in Kafka, a transaction whose start was deleted (DeleteRecords, retention)
		// holds the LSO at the log start, not below it.
		lso = min(lso, max(p.unstable[0].firstOffset, p.log.StartOffset()))
	}
	if lso == p.lso {
		return false
	}
	p.lso = lso
	return true
}

// notifyLocked wakes everyone waiting on Changed.
func (p *Partition) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

package partition

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/producers"
	"github.com/waybill/waybill/internal/records"
)

// A Guard makes KIP-890's produce verification atomic with the append it protects. The
// broker takes a guard, then asks the transaction coordinator whether the producer's
// ongoing transaction includes this partition, then appends with the guard. If the
// transaction ended in between — its marker was written here — the guard is stale and
// the append is refused, so a late write can never open a transaction the coordinator
// has already finished (a hanging transaction).
type Guard struct {
	producerID int64
	markers    uint64
}

// Guard returns a verification guard for producerID's next transactional append.
func (p *Partition) Guard(producerID int64) Guard {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	return Guard{producerID: producerID, markers: p.markers[producerID]}
}

// AppendGuarded is Append for a transactional batch verified under g.
func (p *Partition) AppendGuarded(batch []byte, h records.Header, g Guard) (AppendResult, error) {
	return p.appendBatch(batch, h, func(h records.Header) (*producers.BatchInfo, error) {
		if err := p.checkGuardLocked(h, g); err != nil {
			return nil, err
		}
		return p.producers.Check(h)
	})
}

// AppendCoordinatorGuarded is AppendCoordinator for a transactional batch verified under g
// (the group coordinator's transactional offset commits).
func (p *Partition) AppendCoordinatorGuarded(batch []byte, h records.Header, g Guard) (AppendResult, error) {
	return p.appendBatch(batch, h, func(h records.Header) (*producers.BatchInfo, error) {
		if err := p.checkGuardLocked(h, g); err != nil {
			return nil, err
		}
		return nil, p.producers.CheckCoordinator(h)
	})
}

func (p *Partition) checkGuardLocked(h records.Header, g Guard) error {
	if h.ProducerID != g.producerID || p.markers[g.producerID] != g.markers {
		return fmt.Errorf("%w: the transaction ended after it was verified", kerr.InvalidTxnState)
	}
	return nil
}

// invalidateGuardsLocked makes the guards taken so far for producerID stale; AppendMarker
// calls it for every marker.
func (p *Partition) invalidateGuardsLocked(producerID int64) {
	if p.markers == nil {
		p.markers = make(map[int64]uint64)
	}
	p.markers[producerID]++
}

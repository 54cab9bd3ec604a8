package producers

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/waybill/waybill/internal/records"
)

// OpenTxn is a transaction in progress on this partition.
type OpenTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// TxnFirstOffset is the first offset of producer id's ongoing transaction, or -1 when it
// has none (or is unknown). It is the cheap form of Producer(id).TxnFirstOffset for the
// append path.
func (s *State) TxnFirstOffset(id int64) int64 {
	if p, ok := s.producers[id]; ok {
		return p.txnFirstOffset
	}
	return -1
}

// OpenTxns lists the ongoing transactions, oldest (lowest first offset) first.
func (s *State) OpenTxns() []OpenTxn {
	var open []OpenTxn
	for id, p := range s.producers {
		if p.txnFirstOffset >= 0 {
			open = append(open, OpenTxn{ProducerID: id, FirstOffset: p.txnFirstOffset})
		}
	}
	slices.SortFunc(open, func(a, b OpenTxn) int {
		return cmp.Or(cmp.Compare(a.FirstOffset, b.FirstOffset), cmp.Compare(a.ProducerID, b.ProducerID))
	})
	return open
}

// CheckCoordinator decides whether a batch written by a coordinator on a producer's
// behalf (the group coordinator's transactional offset commits, Kafka's
// AppendOrigin.COORDINATOR) may be appended. Such batches carry the producer's id and
// epoch but no sequence, so only the epoch is checked: a fenced epoch gets
// INVALID_PRODUCER_EPOCH. Afterwards call Update, which tracks the transaction.
func (s *State) CheckCoordinator(h records.Header) error {
	if !h.HasProducer() {
		return nil
	}
	if p, ok := s.producers[h.ProducerID]; ok {
		return p.checkEpoch(h.ProducerID, h.ProducerEpoch)
	}
	return nil
}

// CheckMarker decides whether the transaction coordinator may write a marker for
// producerID with this producer and coordinator epoch. As in Kafka, a marker from an
// older producer epoch is refused (INVALID_PRODUCER_EPOCH) and so is one from an older
// coordinator epoch than the last marker's (TRANSACTION_COORDINATOR_FENCED: a deposed
// coordinator must not end a transaction its successor owns). A newer producer epoch is
// accepted and, once applied, fences the old one. An unknown producer passes: the
// marker is written even though it ends nothing here.
func (s *State) CheckMarker(producerID int64, epoch int16, coordinatorEpoch int32) error {
	p, ok := s.producers[producerID]
	if !ok {
		return nil
	}
	if err := p.checkEpoch(producerID, epoch); err != nil {
		return err
	}
	if coordinatorEpoch < p.coordinatorEpoch {
		return fmt.Errorf("%w: marker for producer %d from coordinator epoch %d, last was %d",
			kerr.TransactionCoordinatorFenced, producerID, coordinatorEpoch, p.coordinatorEpoch)
	}
	return nil
}

// ApplyMarker records a transaction marker (control batch header h, with the base offset
// the log assigned) appended after CheckMarker, or read back from the log: it moves the
// producer to the marker's epoch, remembers the coordinator epoch and ends the open
// transaction. It returns the first offset of the transaction it ended, -1 if the
// producer had none open. It checks nothing, so replay uses it too.
func (s *State) ApplyMarker(h records.Header, coordinatorEpoch int32, timestampMs int64) (endedFirstOffset int64) {
	p := s.touch(h, timestampMs)
	endedFirstOffset = p.txnFirstOffset
	p.txnFirstOffset = -1
	p.coordinatorEpoch = coordinatorEpoch
	return endedFirstOffset
}

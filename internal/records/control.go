package records

import (
	"encoding/binary"
	"fmt"
)

// A transaction marker is a control batch (attributes transactional|control) holding
// one record:
//
//	key    version int16 (0)   type int16 (0 abort, 1 commit)
//	value  version int16 (0)   coordinatorEpoch int32
//
// Other control types (KRaft's leader change, snapshot header and footer) exist but
// never appear in a Waybill data partition.

const (
	controlTypeAbort  = 0
	controlTypeCommit = 1
)

// ControlBatch builds the transaction marker batch that ends producerID's transaction
// on a partition: a commit when commit is true, else an abort. ts is the marker's
// timestamp (milliseconds).
func ControlBatch(producerID int64, epoch int16, commit bool, coordinatorEpoch int32, ts int64) []byte {
	key := make([]byte, 4)
	if commit {
		binary.BigEndian.PutUint16(key[2:], controlTypeCommit)
	}
	value := make([]byte, 6)
	binary.BigEndian.PutUint32(value[2:], uint32(coordinatorEpoch))
	return Build(BuildOptions{
		BaseTimestamp: ts,
		Producer:      &ProducerFields{ID: producerID, Epoch: epoch, BaseSequence: -1},
		Transactional: true,
		Control:       true,
	}, []Record{{Key: key, Value: value}})
}

// ParseControlType reports whether the transaction marker batch at the start of batch
// commits (true) or aborts (false). Any other batch, including control batches of other
// types, gives an error wrapping ErrNotMarker (or the decoding error).
func ParseControlType(batch []byte) (commit bool, err error) {
	h, err := ParseHeader(batch)
	if err != nil {
		return false, err
	}
	if !h.IsControl() {
		return false, fmt.Errorf("%w: control attribute not set", ErrNotMarker)
	}
	var seen bool
	err = Iterate(batch, func(r Record) error {
		if seen {
			return fmt.Errorf("%w: more than one control record", ErrNotMarker)
		}
		seen = true
		var typeErr error
		commit, typeErr = ControlRecordType(r.Key)
		return typeErr
	})
	if err == nil && !seen {
		err = fmt.Errorf("%w: no control record", ErrNotMarker)
	}
	return commit, err
}

// ControlRecordType reads a control record's key: true for a commit marker, false for an
// abort marker, an error wrapping ErrNotMarker for anything else.
func ControlRecordType(key []byte) (commit bool, err error) {
	if len(key) < 4 || int16(binary.BigEndian.Uint16(key)) < 0 {
		return false, fmt.Errorf("%w: malformed control record key", ErrNotMarker)
	}
	switch typ := int16(binary.BigEndian.Uint16(key[2:])); typ {
	case controlTypeCommit:
		return true, nil
	case controlTypeAbort:
		return false, nil
	default:
		return false, fmt.Errorf("%w: control type %d", ErrNotMarker, typ)
	}
}

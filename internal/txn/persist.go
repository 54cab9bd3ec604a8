package txn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record versions written to __transaction_state: what Kafka 0.11 through
// 3.x write (and 4.x while transaction.version is below 2), readable by
// every Kafka tool. Value v1 only adds KIP-890 part 2 tagged fields.
const (
	txnKeyVersion   = 0
	txnValueVersion = 0
)

// persist durably writes next as t's state and then applies it. It is the
// only way t.m changes, except the in-memory bookkeeping of markers written
// during Prepare*. Called with t.mu held.
func (c *Coordinator) persist(ctx context.Context, t *transaction, next metadata) *kerr.Error {
	if err := c.store.Append(ctx, t.owner.number, []Record{metadataRecord(t.id, next)}); err != nil {
		c.log.Warn("failed to persist transaction state", "transactional_id", t.id,
			"state", next.state.String(), "producer_id", next.producerID, "epoch", next.epoch, "err", err)
		return appendError(err)
	}
	t.m = next
	return nil
}

func metadataRecord(id string, m metadata) Record {
	v := kmsg.NewTxnMetadataValue()
	v.Version = txnValueVersion
	v.ProducerID = m.producerID
	v.ProducerEpoch = m.epoch
	v.TimeoutMillis = m.timeoutMillis
	v.State = m.state
	v.LastUpdateTimestamp = m.updateMillis
	v.StartTimestamp = m.startMillis
	if m.state != stateEmpty { // Kafka writes a null partition list for Empty
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, tp := range m.sortedPartitions() {
			if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != tp.Topic {
				vt := kmsg.NewTxnMetadataValueTopic()
				vt.Topic = tp.Topic
				v.Topics = append(v.Topics, vt)
			}
			last := &v.Topics[len(v.Topics)-1]
			last.Partitions = append(last.Partitions, tp.Partition)
		}
	}
	return Record{Key: metadataKey(id), Value: v.AppendTo(nil)}
}

func tombstone(id string) Record { return Record{Key: metadataKey(id)} }

func metadataKey(id string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.Version = txnKeyVersion
	k.TransactionalID = id
	return k.AppendTo(nil)
}

var errShortKey = errors.New("txn: __transaction_state key shorter than its version")

// decodeRecord reads one __transaction_state record. It returns ok=false for
// keys of versions this coordinator does not know (none exist today), and a
// nil metadata for a tombstone.
func decodeRecord(r Record) (id string, m *metadata, ok bool, err error) {
	if len(r.Key) < 2 {
		return "", nil, false, errShortKey
	}
	if v := int16(binary.BigEndian.Uint16(r.Key)); v != 0 {
		return "", nil, false, nil
	}
	var key kmsg.TxnMetadataKey
	if err := key.ReadFrom(r.Key); err != nil {
		return "", nil, false, fmt.Errorf("txn: decoding transaction metadata key: %w", err)
	}
	if r.Value == nil {
		return key.TransactionalID, nil, true, nil
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(r.Value); err != nil {
		return "", nil, false, fmt.Errorf("txn: decoding transaction metadata of %q: %w", key.TransactionalID, err)
	}
	switch v.State {
	case stateEmpty, stateOngoing, statePrepareCommit, statePrepareAbort, stateCompleteCommit, stateCompleteAbort:
	default:
		// Dead and PrepareEpochFence are never written; anything else is
		// corrupt or from a future Kafka.
		return "", nil, false, fmt.Errorf("txn: transaction metadata of %q has state %d, which is never persisted", key.TransactionalID, v.State)
	}
	m = &metadata{
		producerID:     v.ProducerID,
		lastProducerID: noProducerID,
		epoch:          v.ProducerEpoch,
		lastEpoch:      noProducerEpoch,
		timeoutMillis:  v.TimeoutMillis,
		state:          v.State,
		partitions:     make(map[TopicPartition]struct{}),
		startMillis:    v.StartTimestamp,
		updateMillis:   v.LastUpdateTimestamp,
	}
	for _, vt := range v.Topics {
		for _, p := range vt.Partitions {
			m.partitions[TopicPartition{vt.Topic, p}] = struct{}{}
		}
	}
	return key.TransactionalID, m, true, nil
}

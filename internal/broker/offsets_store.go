package broker

import (
	"context"
	"errors"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/group"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/txn"
)

// offsetsStore keeps the group coordinator's state in __consumer_offsets.
type offsetsStore struct{ internalTopic }

func (s offsetsStore) Append(ctx context.Context, index int32, recs []group.Record) error {
	return s.append(ctx, index, groupRecords(recs), nil, nil)
}

// AppendTxn writes a transaction's offsets as a transactional batch of its producer. The
// TxnOffsetCommit handler verified that the partition is in the transaction and passes
// the guard of that verification in ctx.
func (s offsetsStore) AppendTxn(ctx context.Context, index int32, producerID int64, epoch int16, recs []group.Record) error {
	var guard *partition.Guard
	if g, ok := ctx.Value(guardKey{}).(partition.Guard); ok {
		guard = &g
	}
	return s.append(ctx, index, groupRecords(recs), &records.ProducerFields{ID: producerID, Epoch: epoch, BaseSequence: 0}, guard)
}

// guardKey carries a TxnOffsetCommit's verification guard through the group coordinator
// to AppendTxn.
type guardKey struct{}

func (s offsetsStore) Replay(index int32, fn func(group.Record) error) error {
	return s.replay(index, func(h records.Header, r records.Record) error {
		rec := group.Record{Key: r.Key, Value: r.Value, ProducerID: h.ProducerID, Transactional: h.IsTransactional()}
		if h.IsControl() {
			commit, err := records.ControlRecordType(r.Key)
			if err != nil {
				return nil // not a transaction marker: nothing for the coordinator
			}
			rec = group.Record{ProducerID: h.ProducerID, Transactional: true, Marker: &group.Marker{Commit: commit}}
		}
		return fn(rec)
	})
}

func groupRecords(recs []group.Record) []records.Record {
	out := make([]records.Record, len(recs))
	for i, r := range recs {
		out[i] = records.Record{Key: r.Key, Value: r.Value}
	}
	return out
}

// txnStore keeps the transaction coordinator's state in __transaction_state.
type txnStore struct{ internalTopic }

func (s txnStore) Append(ctx context.Context, index int32, recs []txn.Record) error {
	out := make([]records.Record, len(recs))
	for i, r := range recs {
		out[i] = records.Record{Key: r.Key, Value: r.Value}
	}
	return s.append(ctx, index, out, nil, nil)
}

func (s txnStore) Replay(index int32, fn func(txn.Record) error) error {
	return s.replay(index, func(h records.Header, r records.Record) error {
		if h.IsControl() {
			return nil
		}
		return fn(txn.Record{Key: r.Key, Value: r.Value})
	})
}

// onLeadershipChanged starts loading coordinator state when this node starts leading a
// coordinator partition, and drops it when another node leads it: the coordinator is
// the partition's leader, as in Kafka.
func (b *Broker) onLeadershipChanged(mt *cluster.Topic, p *partition.Partition, leading bool) {
	var load func(int32) error
	var unload func(int32)
	switch mt.Name {
	case cluster.ConsumerOffsetsTopic:
		load, unload = b.groups.Load, b.groups.Unload
	case cluster.TransactionStateTopic:
		load, unload = b.txns.Load, b.txns.Unload
	default:
		return
	}
	if !leading {
		unload(p.Index())
		return
	}
	go func() {
		err := load(p.Index())
		switch {
		case errors.Is(err, group.ErrClosed), errors.Is(err, txn.ErrClosed):
			// The broker is shutting down (or halted) while it loaded: nothing to report.
			b.log.Debug("loading coordinator state", "topic", mt.Name, "partition", p.Index(), "err", err)
		case err != nil:
			b.log.Error("loading coordinator state", "topic", mt.Name, "partition", p.Index(), "err", err)
		}
	}()
}

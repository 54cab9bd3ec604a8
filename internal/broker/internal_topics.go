package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/records"
)

// internalTopic is where a coordinator keeps its state: __consumer_offsets for groups,
// __transaction_state for transactions. Appends go through the partition like produced
// batches and return once every in-sync replica has them, as acks=all; replays read a partition from its start.
type internalTopic struct {
	b    *Broker
	name string
}

func (t internalTopic) partition(index int32) (*partition.Partition, error) {
	p := t.b.replicas.get(t.name, index)
	if p == nil {
		return nil, fmt.Errorf("%w: %s-%d is not hosted here", kerr.NotLeaderForPartition, t.name, index)
	}
	return p, nil
}

// append writes recs as one batch; with a producer, as a transactional batch of that
// producer, verified under guard (see partition.Guard).
func (t internalTopic) append(ctx context.Context, index int32, recs []records.Record, producer *records.ProducerFields, guard *partition.Guard) error {
	p, err := t.partition(index)
	if err != nil {
		return err
	}
	batch := records.Build(records.BuildOptions{
		BaseTimestamp: time.Now().UnixMilli(),
		Producer:      producer,
		Transactional: producer != nil,
	}, recs)
	h, err := records.ParseHeader(batch)
	if err != nil {
		return err
	}
	var res partition.AppendResult
	switch {
	case producer == nil:
		res, err = p.Append(batch, h)
	case guard == nil:
		return fmt.Errorf("%w: transactional write without verification", kerr.InvalidTxnState)
	default:
		res, err = p.AppendCoordinatorGuarded(batch, h, *guard)
	}
	if err != nil {
		return err
	}
	return p.WaitReplicated(ctx, res.LastOffset+1, res.LeaderEpoch)
}

// replay calls fn with every record of the partition in order, with its batch header;
// control batches (transaction markers) come through with h.IsControl().
func (t internalTopic) replay(index int32, fn func(h records.Header, r records.Record) error) error {
	p, err := t.partition(index)
	if err != nil {
		return err
	}
	return p.Log().Scan(p.Log().StartOffset(), func(h records.Header, batch []byte) error {
		return records.Iterate(batch, func(r records.Record) error { return fn(h, r) })
	})
}

// ensure creates the internal topic on first use, as Kafka does.
func (t internalTopic) ensure(ctx context.Context, partitions int32, configs map[string]string) (*cluster.Topic, error) {
	if mt, ok := t.b.meta.Image().Topics[t.name]; ok {
		return mt, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := t.b.meta.CreateInternalTopic(ctx, t.name, partitions, configs)
	if err != nil && errorCode(err) != kerr.TopicAlreadyExists.Code {
		t.b.log.Warn("creating "+t.name, "err", err)
		return nil, kerr.CoordinatorNotAvailable
	}
	mt, ok := t.b.meta.Image().Topics[t.name]
	if !ok {
		return nil, kerr.CoordinatorNotAvailable
	}
	return mt, nil
}

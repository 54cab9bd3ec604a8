package broker

import (
	"context"

	"fmt"
	"github.com/twmb/franz-go/pkg/kerr"
	"time"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/group"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/records"
)

// offsetsStore keeps the group coordinator's state in __consumer_offsets: appends go
// through the same partition path as produced batches and are acknowledged once durable.
type offsetsStore struct{ b *Broker }

func (s *offsetsStore) partition(index int32) (*partition.Partition, error) {
	p := s.b.replicas.get(cluster.ConsumerOffsetsTopic, index)
	if p == nil {
		return nil, fmt.Errorf("%s-%d is not hosted here", cluster.ConsumerOffsetsTopic, index)
	}
	return p, nil
}

func (s *offsetsStore) Append(ctx context.Context, index int32, recs []group.Record) error {
	p, err := s.partition(index)
	if err != nil {
		return err
	}
	rs := make([]records.Record, len(recs))
	for i, r := range recs {
		rs[i] = records.Record{Key: r.Key, Value: r.Value}
	}
	batch := records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli()}, rs)
	h, err := records.ParseHeader(batch)
	if err != nil {
		return err
	}
	res, err := p.Append(batch, h)
	if err != nil {
		return err
	}
	return p.WaitDurable(ctx, res.LastOffset+1)
}

// AppendTxn is the transactional offset commit path; it arrives with the transaction
// coordinator's wiring.
func (s *offsetsStore) AppendTxn(context.Context, int32, int64, int16, []group.Record) error {
	return kerr.UnsupportedVersion
}

func (s *offsetsStore) Replay(index int32, fn func(group.Record) error) error {
	p, err := s.partition(index)
	if err != nil {
		return err
	}
	return p.Log().Scan(p.Log().StartOffset(), func(_ records.Header, batch []byte) error {
		return records.Iterate(batch, func(r records.Record) error {
			return fn(group.Record{Key: r.Key, Value: r.Value, ProducerID: -1})
		})
	})
}

// onPartitionOpened starts loading coordinator state when a coordinator partition opens.
// It runs under the replicas lock, so the load (which reads the replica) runs apart.
func (b *Broker) onPartitionOpened(mt *cluster.Topic, p *partition.Partition) {
	if mt.Name != cluster.ConsumerOffsetsTopic {
		return
	}
	go func() {
		if err := b.groups.Load(p.Index()); err != nil {
			b.log.Error("loading consumer groups", "partition", p.Index(), "err", err)
		}
	}()
}

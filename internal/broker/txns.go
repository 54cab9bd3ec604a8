package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
	"github.com/waybill/waybill/internal/txn"
)

// txnAPI adapts a transaction coordinator method to a handler; like groupAPI, the call
// runs in the Pending because it waits for __transaction_state to be durable.
func txnAPI[Req kmsg.Request, Resp kmsg.Response](call func(*txn.Coordinator, context.Context, Req) Resp) func(*Broker, *server.Request) server.Pending {
	return func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(Req)
		return func() server.Reply { return server.Reply{Msg: call(b.txns, r.Conn.Done, req)} }
	}
}

// txnConfig derives the transaction coordinator's settings from the broker configs.
func (b *Broker) txnConfig() txn.Config {
	bc := b.cfg.Broker
	return txn.Config{
		NumPartitions:             bc.TransactionStateLogNumPartitions,
		MaxTimeout:                time.Duration(bc.TransactionMaxTimeoutMs) * time.Millisecond,
		TransactionalIDExpiration: time.Duration(bc.TransactionalIDExpirationMs) * time.Millisecond,
		GroupPartition:            b.groups.PartitionFor,
		PartitionExists: func(tp txn.TopicPartition) bool {
			mt, ok := b.meta.Image().Topics[tp.Topic]
			return ok && tp.Partition >= 0 && int(tp.Partition) < len(mt.Partitions)
		},
		// A coordinator's markers carry the leader epoch of its __transaction_state
		// partition, so partitions can fence a deposed coordinator.
		CoordinatorEpoch: func(partition int32) int32 {
			mt, ok := b.meta.Image().Topics[cluster.TransactionStateTopic]
			if !ok || int(partition) >= len(mt.Partitions) {
				return 0
			}
			return mt.Partitions[partition].LeaderEpoch
		},
		Logger: b.log,
	}
}

// markerWriter writes transaction markers to the partitions this node leads (every
// partition, on a single node; replication adds WriteTxnMarkers to other brokers here).
type markerWriter struct{ b *Broker }

func (w markerWriter) WriteMarkers(ctx context.Context, producerID int64, epoch int16, commit bool,
	coordinatorEpoch int32, partitions []txn.TopicPartition) map[txn.TopicPartition]error {
	failed := map[txn.TopicPartition]error{}
	for _, tp := range partitions {
		if err := w.b.writeMarker(ctx, producerID, epoch, commit, coordinatorEpoch, tp.Topic, tp.Partition); err != nil {
			failed[tp] = err
		}
	}
	return failed
}

// writeMarker appends one marker durably. A partition that no longer exists counts as
// done, as Kafka's coordinator treats UNKNOWN_TOPIC_OR_PARTITION.
func (b *Broker) writeMarker(ctx context.Context, producerID int64, epoch int16, commit bool,
	coordinatorEpoch int32, topic string, index int32) error {
	p := b.replicas.get(topic, index)
	if p == nil {
		if _, ok := b.meta.Image().Topics[topic]; !ok {
			return nil
		}
		return kerr.NotLeaderForPartition
	}
	res, err := p.AppendMarker(producerID, epoch, commit, coordinatorEpoch)
	if err != nil {
		return err
	}
	if err := p.WaitReplicated(ctx, res.LastOffset+1, res.LeaderEpoch); err != nil {
		return err
	}
	if topic == cluster.ConsumerOffsetsTopic {
		b.groups.CompleteTxn(index, producerID, commit)
	}
	return nil
}

// producerIDSource gives the transaction coordinator fresh producer ids from the same
// quorum-allocated blocks as idempotent producers.
type producerIDSource struct{ b *Broker }

func (s producerIDSource) Next(ctx context.Context) (int64, error) {
	return s.b.producerIDs.next(ctx, s.b)
}

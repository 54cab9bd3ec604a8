package broker

import (
	"context"
	"time"

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

// producerIDSource gives the transaction coordinator fresh producer ids from the same
// quorum-allocated blocks as idempotent producers.
type producerIDSource struct{ b *Broker }

func (s producerIDSource) Next(ctx context.Context) (int64, error) {
	return s.b.producerIDs.next(ctx, s.b)
}

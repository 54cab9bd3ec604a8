package broker

// FindCoordinator v0-5 (v4+ batches keys). The coordinator of a group is the leader of
// its __consumer_offsets partition, that of a transactional id the leader of its
// __transaction_state partition; both topics are created on first use, as Kafka does.

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.FindCoordinator, 0, 5, (*Broker).handleFindCoordinator) }

const (
	coordinatorTypeGroup = 0
	coordinatorTypeTxn   = 1
)

func (b *Broker) handleFindCoordinator(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	return func() server.Reply {
		keys := req.CoordinatorKeys
		if req.Version < 4 {
			keys = []string{req.CoordinatorKey}
		}
		for _, key := range keys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key = key
			c.NodeID, c.Port = -1, -1
			node, err := b.coordinatorFor(r.Conn.Done, req.CoordinatorType, key)
			if err != nil {
				setErr(&c.ErrorCode, &c.ErrorMessage, err)
			} else {
				c.NodeID, c.Host, c.Port = node.ID, node.Host, node.Port
			}
			resp.Coordinators = append(resp.Coordinators, c)
		}
		if req.Version < 4 {
			c := resp.Coordinators[0]
			resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
			resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
			resp.Coordinators = nil
		}
		return server.Reply{Msg: resp}
	}
}

func (b *Broker) coordinatorFor(ctx context.Context, keyType int8, key string) (cluster.Broker, error) {
	var (
		mt        *cluster.Topic
		err       error
		partition int32
	)
	switch keyType {
	case coordinatorTypeGroup:
		mt, err = b.ensureOffsetsTopic(ctx)
		if err == nil {
			partition = b.groups.PartitionFor(key)
		}
	case coordinatorTypeTxn:
		mt, err = b.txnStateTopic().ensure(ctx, b.cfg.Broker.TransactionStateLogNumPartitions, map[string]string{
			"cleanup.policy":      "compact",
			"segment.bytes":       strconv.Itoa(int(b.cfg.Broker.TransactionStateLogSegmentBytes)),
			"min.insync.replicas": strconv.Itoa(int(b.cfg.Broker.TransactionStateLogMinISR)),
			"compression.type":    "producer",
		})
		if err == nil {
			partition = b.txns.PartitionFor(key)
		}
	default:
		return cluster.Broker{}, kerr.InvalidRequest
	}
	if err != nil {
		return cluster.Broker{}, err
	}
	leader := mt.Partitions[partition].Leader
	br, ok := b.meta.Image().Brokers[leader]
	if !ok {
		return cluster.Broker{}, kerr.CoordinatorNotAvailable
	}
	return br, nil
}

// ensureOffsetsTopic creates __consumer_offsets on first use, as Kafka does.
func (b *Broker) ensureOffsetsTopic(ctx context.Context) (*cluster.Topic, error) {
	return b.offsetsTopic().ensure(ctx, b.cfg.Broker.OffsetsTopicNumPartitions, map[string]string{
		"cleanup.policy":   "compact",
		"segment.bytes":    strconv.Itoa(int(b.cfg.Broker.OffsetsTopicSegmentBytes)),
		"compression.type": "producer",
	})
}

func (b *Broker) offsetsTopic() internalTopic {
	return internalTopic{b: b, name: cluster.ConsumerOffsetsTopic}
}

func (b *Broker) txnStateTopic() internalTopic {
	return internalTopic{b: b, name: cluster.TransactionStateTopic}
}

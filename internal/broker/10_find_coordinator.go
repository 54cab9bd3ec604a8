package broker

// FindCoordinator v0-5 (v4+ batches keys). The coordinator of a group is the leader of
// its __consumer_offsets partition; the topic is created on first use, as Kafka does.
// Transaction coordinators arrive with transactions: until then COORDINATOR_NOT_AVAILABLE.

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.FindCoordinator, 0, 5, (*Broker).handleFindCoordinator) }

const coordinatorTypeGroup = 0

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
	if keyType != coordinatorTypeGroup {
		return cluster.Broker{}, kerr.CoordinatorNotAvailable
	}
	mt, err := b.ensureOffsetsTopic(ctx)
	if err != nil {
		return cluster.Broker{}, err
	}
	leader := mt.Partitions[b.groups.PartitionFor(key)].Leader
	br, ok := b.meta.Image().Brokers[leader]
	if !ok {
		return cluster.Broker{}, kerr.CoordinatorNotAvailable
	}
	return br, nil
}

// ensureOffsetsTopic creates __consumer_offsets on first use.
func (b *Broker) ensureOffsetsTopic(ctx context.Context) (*cluster.Topic, error) {
	if mt, ok := b.meta.Image().Topics[cluster.ConsumerOffsetsTopic]; ok {
		return mt, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := b.meta.CreateInternalTopic(ctx, cluster.ConsumerOffsetsTopic,
		b.cfg.Broker.OffsetsTopicNumPartitions, map[string]string{
			"cleanup.policy":   "compact",
			"segment.bytes":    strconv.Itoa(int(b.cfg.Broker.OffsetsTopicSegmentBytes)),
			"compression.type": "producer",
		})
	if err != nil && errorCode(err) != kerr.TopicAlreadyExists.Code {
		b.log.Warn("creating "+cluster.ConsumerOffsetsTopic, "err", err)
		return nil, kerr.CoordinatorNotAvailable
	}
	mt, ok := b.meta.Image().Topics[cluster.ConsumerOffsetsTopic]
	if !ok {
		return nil, kerr.CoordinatorNotAvailable
	}
	return mt, nil
}

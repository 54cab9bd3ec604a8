package cluster

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// HandleAlterPartition answers a partition leader's ISR changes on the controller
// (AlterPartition v2-3, KIP-497): each change is committed to the metadata log, and the
// answer carries the partition as committed. Errors: NOT_CONTROLLER, STALE_BROKER_EPOCH
// or BROKER_ID_NOT_REGISTERED for the sender; per partition UNKNOWN_TOPIC_ID,
// NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION (a stale partition
// epoch), INELIGIBLE_REPLICA (KIP-841), INVALID_REQUEST.
func (n *Node) HandleAlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse {
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	fail := func(err error) *kmsg.AlterPartitionResponse {
		if !errors.Is(err, kerr.NotController) {
			n.logger.Warn("AlterPartition refused", "broker", req.BrokerID, "epoch", req.BrokerEpoch, "err", err)
		}
		resp.ErrorCode = errorCode(err)
		return resp
	}
	if n.sessions.Load() == nil {
		return fail(errorf(kerr.NotController, "node %d is not the controller", n.cfg.NodeID))
	}
	if _, err := brokerAt(n.Image(), req.BrokerID, req.BrokerEpoch); err != nil {
		return fail(err)
	}
	for _, t := range req.Topics {
		rt := kmsg.NewAlterPartitionResponseTopic()
		rt.TopidID = t.TopicID // sic: kmsg's spelling
		for _, ap := range t.Partitions {
			rp := kmsg.NewAlterPartitionResponseTopicPartition()
			rp.Partition = ap.Partition
			cmd := &alterPartitionCmd{BrokerID: req.BrokerID, BrokerEpoch: req.BrokerEpoch,
				TopicID: UUID(t.TopicID), Partition: ap.Partition, LeaderEpoch: ap.LeaderEpoch,
				PartitionEpoch: ap.PartitionEpoch}
			for _, m := range ap.NewEpochISR {
				cmd.ISR = append(cmd.ISR, m.BrokerID)
				cmd.ISREpochs = append(cmd.ISREpochs, m.BrokerEpoch)
			}
			if req.Version < 3 {
				cmd.ISR, cmd.ISREpochs = ap.NewISR, nil
			}
			if _, err := n.propose(ctx, command{AlterPartition: cmd}); err != nil {
				if errors.Is(err, kerr.NotController) {
					return fail(err)
				}
				n.logger.Info("ISR change refused", "broker", req.BrokerID, "topic", UUID(t.TopicID), "partition", ap.Partition, "isr", cmd.ISR, "err", err)
				rp.ErrorCode = errorCode(err)
			} else {
				n.logger.Info("ISR changed", "broker", req.BrokerID, "topic", UUID(t.TopicID), "partition", ap.Partition, "isr", cmd.ISR)
			}
			if mt := n.Image().TopicByID(UUID(t.TopicID)); mt != nil && int(ap.Partition) < len(mt.Partitions) && ap.Partition >= 0 {
				p := mt.Partitions[ap.Partition]
				rp.LeaderID, rp.LeaderEpoch, rp.ISR, rp.PartitionEpoch = p.Leader, p.LeaderEpoch, p.ISR, p.PartitionEpoch
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// AlterPartition sends a leader's ISR changes to the controller, wherever it runs.
func (n *Node) AlterPartition(ctx context.Context, build func() *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error) {
	resp, err := n.channel.send(ctx, func() kmsg.Request { return build() })
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.AlterPartitionResponse), nil
}

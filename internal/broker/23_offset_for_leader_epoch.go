package broker

// OffsetForLeaderEpoch v2-4 (KIP-101/279): the end offset of the requested leader epoch
// on this replica. A single node has led every partition since epoch 0 without a change of
// leader, so any epoch up to the current one ends at the log end offset; the leader-epoch
// cache that replication needs replaces this when followers arrive.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.OffsetForLeaderEpoch, 2, 4, (*Broker).handleOffsetForLeaderEpoch) }

func (b *Broker) handleOffsetForLeaderEpoch(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		for _, op := range t.Partitions {
			rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition = op.Partition
			rp.LeaderEpoch, rp.EndOffset = -1, -1
			led, code, _ := b.replicas.led(t.Topic, op.Partition)
			p := led.Partition
			switch {
			case code != 0:
				rp.ErrorCode = code
			case checkLeaderEpoch(p, op.CurrentLeaderEpoch) != 0:
				rp.ErrorCode = checkLeaderEpoch(p, op.CurrentLeaderEpoch)
			case op.LeaderEpoch > p.LeaderEpoch():
				// An epoch we never had: UNDEFINED (-1/-1), as Kafka answers.
			default:
				rp.LeaderEpoch = p.LeaderEpoch()
				if req.ReplicaID < 0 { // consumers are bounded by what they may read
					rp.EndOffset = p.HighWatermark()
				} else {
					rp.EndOffset = p.Log().EndOffset()
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return server.Done(resp)
}

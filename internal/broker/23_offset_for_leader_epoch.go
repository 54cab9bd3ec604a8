package broker

// OffsetForLeaderEpoch v2-4 (KIP-101/279): the end offset of the requested leader epoch
// on the leader, from its leader-epoch cache: the largest epoch at or below the one asked
// for, and where the next one began (the log end for the newest). Consumers get the same
// answer as followers, as in Kafka: a new leader's high watermark may still lag what its
// epochs hold, and capping at it would tell a consumer that records it read were lost.

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
			default:
				rp.LeaderEpoch, rp.EndOffset = p.EndOffsetForEpoch(op.LeaderEpoch)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return server.Done(resp)
}

package broker

// DescribeProducers v0 (KIP-664): the producers a partition led here tracks, with the
// start offset of each one's open transaction, so that an administrator can find and
// abort hanging transactions (WriteTxnMarkers).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.DescribeProducers, 0, 0, (*Broker).handleDescribeProducers) }

func (b *Broker) handleDescribeProducers(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewDescribeProducersResponseTopic()
		rt.Topic = t.Topic
		for _, index := range t.Partitions {
			rp := kmsg.NewDescribeProducersResponseTopicPartition()
			rp.Partition = index
			p, ke := b.ledPartition(t.Topic, index)
			if ke != nil {
				rp.ErrorCode = ke.Code
			} else {
				rp.ActiveProducers = describedProducers(p.Producers())
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return server.Done(resp)
}

// ledPartition is the replica of topic/index that this node leads, or Kafka's error for
// it: NOT_LEADER_OR_FOLLOWER when the partition exists but is not led here,
// UNKNOWN_TOPIC_OR_PARTITION when it does not exist.
func (b *Broker) ledPartition(topic string, index int32) (*partition.Partition, *kerr.Error) {
	if p := b.replicas.get(topic, index); p != nil {
		return p, nil
	}
	if mt, ok := b.meta.Image().Topics[topic]; ok && index >= 0 && int(index) < len(mt.Partitions) {
		return nil, kerr.NotLeaderForPartition
	}
	return nil, kerr.UnknownTopicOrPartition
}

func describedProducers(views []partition.ProducerView) []kmsg.DescribeProducersResponseTopicPartitionActiveProducer {
	out := make([]kmsg.DescribeProducersResponseTopicPartitionActiveProducer, 0, len(views))
	for _, v := range views {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID = v.ProducerID
		ap.ProducerEpoch = int32(v.ProducerEpoch)
		ap.LastSequence = v.LastSequence
		ap.LastTimestamp = v.LastTimestamp
		ap.CoordinatorEpoch = v.CoordinatorEpoch
		ap.CurrentTxnStartOffset = v.CurrentTxnStartOffset
		out = append(out, ap)
	}
	return out
}

package broker

// DescribeProducers v0 (KIP-664): the producers a partition led here tracks, with the
// start offset of each one's open transaction, so that an administrator can find and
// abort hanging transactions (WriteTxnMarkers).

import (
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
			if led, code, _ := b.replicas.led(t.Topic, index); code != 0 {
				rp.ErrorCode = code
			} else {
				rp.ActiveProducers = describedProducers(led.Producers())
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return server.Done(resp)
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

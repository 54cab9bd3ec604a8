package broker

// WriteTxnMarkers v0-1: writes commit or abort markers to partitions this node leads.
// The transaction coordinator writes its own markers directly (markerWriter); this API
// serves other brokers' coordinators and KIP-664's admin "abort transaction", which
// sends it to the partition leader with the producer id, producer epoch and coordinator
// epoch that DescribeProducers reported. Each marker is answered once it is durable.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.WriteTxnMarkers, 0, 1, (*Broker).handleWriteTxnMarkers) }

func (b *Broker) handleWriteTxnMarkers(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.WriteTxnMarkersRequest)
	// Markers wait for fsync, so they are written in the Pending, as the coordinator's.
	return func() server.Reply {
		resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
		for _, m := range req.Markers {
			resp.Markers = append(resp.Markers, b.writeTxnMarker(r.Conn.Done, m))
		}
		return server.Reply{Msg: resp}
	}
}

// writeTxnMarker writes one marker to each of its partitions. As in Kafka, a partition
// with no replica here is UNKNOWN_TOPIC_OR_PARTITION.
func (b *Broker) writeTxnMarker(ctx context.Context, m kmsg.WriteTxnMarkersRequestMarker) kmsg.WriteTxnMarkersResponseMarker {
	rm := kmsg.NewWriteTxnMarkersResponseMarker()
	rm.ProducerID = m.ProducerID
	for _, t := range m.Topics {
		rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
		rt.Topic = t.Topic
		for _, index := range t.Partitions {
			rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
			rp.Partition = index
			if _, code, _ := b.replicas.led(t.Topic, index); code != 0 {
				rp.ErrorCode = code
			} else {
				rp.ErrorCode = errorCode(b.writeMarker(ctx, m.ProducerID, m.ProducerEpoch, m.Committed,
					m.CoordinatorEpoch, t.Topic, index))
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		rm.Topics = append(rm.Topics, rt)
	}
	return rm
}

package broker

// WriteTxnMarkers v0-1: writes commit or abort markers to partitions this node leads.
// Transaction coordinators on other brokers send it (markerWriter: a coordinator writes
// its own partitions' markers directly), and so does KIP-664's admin "abort transaction",
// to the partition leader with the producer id, producer epoch and coordinator epoch that
// DescribeProducers reported. Each partition is answered once its marker is durable, with
// Kafka's codes: UNKNOWN_TOPIC_OR_PARTITION when the metadata has no such partition,
// NOT_LEADER_OR_FOLLOWER when another broker leads it or none does,
// TRANSACTION_COORDINATOR_FENCED or INVALID_PRODUCER_EPOCH when the partition has seen a
// newer coordinator or producer epoch.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.WriteTxnMarkers, 0, 1, (*Broker).handleWriteTxnMarkers) }

func (b *Broker) handleWriteTxnMarkers(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.WriteTxnMarkersRequest)
	// Markers wait for fsync, so they are written in the Pending, as the coordinator's.
	return func() server.Reply {
		var writes []markerWrite
		for _, m := range req.Markers {
			for _, t := range m.Topics {
				for _, index := range t.Partitions {
					writes = append(writes, markerWrite{m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch, t.Topic, index})
				}
			}
		}
		errs := b.writeMarkersHere(r.Conn.Done, writes)

		resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
		i := 0
		for _, m := range req.Markers {
			rm := kmsg.NewWriteTxnMarkersResponseMarker()
			rm.ProducerID = m.ProducerID
			for _, t := range m.Topics {
				rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				rt.Topic = t.Topic
				for _, index := range t.Partitions {
					rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					rp.Partition, rp.ErrorCode = index, errorCode(errs[i])
					i++
					rt.Partitions = append(rt.Partitions, rp)
				}
				rm.Topics = append(rm.Topics, rt)
			}
			resp.Markers = append(resp.Markers, rm)
		}
		return server.Reply{Msg: resp}
	}
}

package broker

// DeleteRecords v0-2: advances a partition's log start offset (-1 means the high
// watermark). An offset above the high watermark is OFFSET_OUT_OF_RANGE.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.DeleteRecords, 0, 2, (*Broker).handleDeleteRecords) }

func (b *Broker) handleDeleteRecords(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewDeleteRecordsResponseTopic()
		rt.Topic = t.Topic
		for _, dp := range t.Partitions {
			rp := kmsg.NewDeleteRecordsResponseTopicPartition()
			rp.Partition = dp.Partition
			rp.LowWatermark = -1
			led, code, _ := b.replicas.led(t.Topic, dp.Partition)
			p := led.Partition
			switch {
			case code != 0:
				rp.ErrorCode = code
			default:
				hw := p.HighWatermark()
				offset := dp.Offset
				if offset == -1 {
					offset = hw
				}
				if offset < 0 || offset > hw {
					rp.ErrorCode = kerr.OffsetOutOfRange.Code
				} else if err := p.DeleteBefore(offset); err != nil {
					rp.ErrorCode = errorCode(err)
				} else {
					rp.LowWatermark = p.Log().StartOffset()
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return server.Done(resp)
}

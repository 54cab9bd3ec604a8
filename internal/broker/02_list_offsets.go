package broker

// ListOffsets v1-8: earliest (-2), latest (-1: the high watermark, or the last stable
// offset under read_committed), max timestamp (-3, KIP-734), or the first record whose
// timestamp is at least the given one. Lookups by time use the time index to find the
// batch and then read its records for the exact offset.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.ListOffsets, 1, 8, (*Broker).handleListOffsets) }

const (
	listLatest       = -1
	listEarliest     = -2
	listMaxTimestamp = -3
)

func (b *Broker) handleListOffsets(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		for _, lp := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition = lp.Partition
			rp.Offset, rp.Timestamp = -1, -1
			led, code, _ := b.replicas.led(t.Topic, lp.Partition)
			p := led.Partition
			if code != 0 {
				rp.ErrorCode = code
			} else if code := checkLeaderEpoch(p, lp.CurrentLeaderEpoch); code != 0 {
				rp.ErrorCode = code
			} else {
				rp.LeaderEpoch = p.LeaderEpoch()
				rp.Offset, rp.Timestamp, rp.ErrorCode = listOffset(p, lp.Timestamp, req.IsolationLevel)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return server.Done(resp)
}

// checkLeaderEpoch is KIP-320's fencing: a client that saw a newer epoch than ours knows
// something we do not yet (UNKNOWN_LEADER_EPOCH); one with an older epoch is stale
// (FENCED_LEADER_EPOCH). -1 means the client did not say.
func checkLeaderEpoch(p *partition.Partition, clientEpoch int32) int16 {
	return errorCode(p.CheckLeaderEpoch(clientEpoch))
}

func listOffset(p *partition.Partition, ts int64, isolation int8) (offset, timestamp int64, code int16) {
	hw := p.HighWatermark()
	if isolation == 1 { // read_committed sees up to the last stable offset
		hw = p.LastStableOffset()
	}
	switch ts {
	case listEarliest:
		return p.Log().StartOffset(), -1, 0
	case listLatest:
		return hw, -1, 0
	}
	var (
		batch []byte
		ok    bool
		err   error
	)
	if ts == listMaxTimestamp {
		batch, ok, err = p.Log().MaxTimestampBatch()
	} else if ts >= 0 {
		batch, ok, err = p.Log().OffsetForTimestamp(ts)
	} else {
		return -1, -1, kerr.InvalidRequest.Code
	}
	if err != nil {
		return -1, -1, errorCode(err)
	}
	if !ok {
		return -1, -1, 0
	}
	offset, timestamp, err = recordAtTime(batch, ts)
	if err != nil {
		return -1, -1, errorCode(err)
	}
	if offset >= hw {
		return -1, -1, 0
	}
	return offset, timestamp, 0
}

// recordAtTime finds, in batch, the first record with a timestamp of at least ts, or for
// listMaxTimestamp the first record holding the batch's largest timestamp.
func recordAtTime(batch []byte, ts int64) (int64, int64, error) {
	h, err := records.ParseHeader(batch)
	if err != nil {
		return -1, -1, err
	}
	if h.LogAppendTime() { // every record carries the batch's append time
		return h.BaseOffset, h.MaxTimestamp, nil
	}
	want := ts
	if ts == listMaxTimestamp {
		want = h.MaxTimestamp
	}
	offset, timestamp := int64(-1), int64(-1)
	errFound := errStop
	err = records.Iterate(batch, func(r records.Record) error {
		rts := h.BaseTimestamp + r.TimestampDelta
		if rts >= want {
			offset, timestamp = h.BaseOffset+int64(r.OffsetDelta), rts
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return -1, -1, err
	}
	return offset, timestamp, nil
}

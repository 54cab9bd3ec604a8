package broker

// Produce v3-11 (magic v2 batches only, as Kafka 4 requires). The append happens in
// request order on the connection's reader; only the wait for durability (group-committed
// fsync) is left to the Pending, so a pipelined producer keeps its batches in sequence
// while many of them share one fsync.
//
// acks=0 sends no response (a failure closes the connection). acks=1 and acks=all are answered once the batch is fsynced
// (unless waybill.durable.acks=false); acks=all is refused with NOT_ENOUGH_REPLICAS when
// the ISR is smaller than min.insync.replicas.
//
// Each batch is checked as Kafka's LogValidator does: framing by records.Validate, then
// the topic's record rules (keys on compacted topics, CreateTime bounds) and its
// compression.type, which may recompress the batch (produce_conform.go).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.Produce, 3, 11, (*Broker).handleProduce) }

// produceWait is an appended batch whose acknowledgement waits for durability.
type produceWait struct {
	p   *partition.Partition
	end int64
	out *kmsg.ProduceResponseTopicPartition
}

func (b *Broker) handleProduce(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	if req.Acks != 0 && req.Acks != 1 && req.Acks != -1 {
		return server.Done(produceError(req, resp, kerr.InvalidRequiredAcks.Code))
	}
	var waits []produceWait
	failed := false
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i, t := range req.Topics {
		rt := &resp.Topics[i]
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(t.Partitions))
		for j, tp := range t.Partitions {
			out := &rt.Partitions[j]
			*out = kmsg.NewProduceResponseTopicPartition()
			out.Partition = tp.Partition
			p, end, code := b.appendProduced(t.Topic, tp.Partition, tp.Records, req, out)
			out.ErrorCode = code
			failed = failed || code != 0
			if code == 0 && req.Acks != 0 {
				waits = append(waits, produceWait{p: p, end: end, out: out})
			}
		}
	}
	if req.Version >= 10 {
		var hints leaderHints
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if rp.ErrorCode == kerr.NotLeaderForPartition.Code {
					hints.add(rp.CurrentLeader.LeaderID)
				}
			}
		}
		resp.Brokers = endpoints(hints, b.meta.Image(), func(id int32, host string, port int32, rack *string) kmsg.ProduceResponseBroker {
			return kmsg.ProduceResponseBroker{NodeID: id, Host: host, Port: port, Rack: rack}
		})
	}
	if req.Acks == 0 {
		// No response; as in Kafka, a failed write closes the connection so that the
		// producer at least notices and refreshes its metadata.
		return func() server.Reply { return server.Reply{CloseAfter: failed} }
	}
	timeout := time.Duration(req.TimeoutMillis) * time.Millisecond
	return func() server.Reply {
		ctx, cancel := context.WithTimeout(r.Conn.Done, timeout)
		defer cancel()
		for _, w := range waits {
			if err := w.p.WaitDurable(ctx, w.end); err != nil {
				w.out.ErrorCode = errorCode(err)
				w.out.BaseOffset = -1
			}
		}
		return server.Reply{Msg: resp}
	}
}

// appendProduced validates and appends one partition's batch, filling out. It returns the
// partition and the end offset to wait for when the append succeeded.
func (b *Broker) appendProduced(topic string, index int32, batch []byte, req *kmsg.ProduceRequest,
	out *kmsg.ProduceResponseTopicPartition) (*partition.Partition, int64, int16) {
	led, code, pm := b.replicas.led(topic, index)
	if code != 0 {
		if req.Version >= 10 { // KIP-951
			out.CurrentLeader.LeaderID, out.CurrentLeader.LeaderEpoch = pm.Leader, pm.LeaderEpoch
		}
		return nil, 0, code
	}
	if led.meta.Internal {
		return nil, 0, kerr.InvalidTopicException.Code
	}
	p, tc := led.Partition, led.cfg
	rules := recordRules(topic, index, tc, time.Now())
	h, err := records.Validate(batch, records.ValidateOptions{
		MaxMessageBytes: int(tc.MaxMessageBytes),
		AllowZstd:       req.Version >= 7,
		RequireKeys:     rules.RequireKeys,
	})
	if err != nil {
		b.log.Debug("rejected produce batch", "topic", topic, "partition", index, "err", err)
		return nil, 0, produceRejection(allRecordErrors(batch, h, err, rules), out)
	}
	var guard *partition.Guard
	if h.IsTransactional() {
		g := p.Guard(h.ProducerID) // before verifying, so a marker in between voids it
		if code := b.verifyTransactional(req.TransactionID, h, topic, index); code != 0 {
			return nil, 0, code
		}
		guard = &g
	}
	if req.Acks == -1 && int(tc.MinInsyncReplicas) > len(pm.ISR) {
		return nil, 0, kerr.NotEnoughReplicas.Code
	}
	// Timestamps and compression.type last, as Kafka's LogValidator runs just before
	// the append: a recompressed batch is a new slice, which Append then owns.
	if batch, h, err = conformBatch(batch, h, tc, rules); err != nil {
		b.log.Debug("rejected produce batch", "topic", topic, "partition", index, "err", err)
		return nil, 0, produceRejection(err, out)
	}
	var res partition.AppendResult
	if guard != nil {
		res, err = p.AppendGuarded(batch, h, *guard)
	} else {
		res, err = p.Append(batch, h)
	}
	if err != nil {
		return nil, 0, errorCode(err)
	}
	out.BaseOffset = res.BaseOffset
	out.LogAppendTime = res.LogAppendTime
	out.LogStartOffset = p.Log().StartOffset()
	b.metrics.producedBytes.Add(float64(len(batch)))
	return p, res.LastOffset + 1, 0
}

// produceError answers every partition of the request with code.
func produceError(req *kmsg.ProduceRequest, resp *kmsg.ProduceResponse, code int16) *kmsg.ProduceResponse {
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		for _, tp := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = tp.Partition
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

package broker

// Produce v3-11 (magic v2 batches only, as Kafka 4 requires). The append happens in
// request order on the connection's reader; only the wait for durability (group-committed
// fsync) is left to the Pending, so a pipelined producer keeps its batches in sequence
// while many of them share one fsync.
//
// acks=0 sends no response (a failure closes the connection). acks=1 is answered once
// the leader's own copy is fsynced (unless waybill.durable.acks=false): the followers may
// not have it yet, which is what acks=1 promises. acks=all is refused with
// NOT_ENOUGH_REPLICAS when the ISR is smaller than min.insync.replicas, and answered once
// the high watermark covers the batch: every in-sync replica has it (fsynced, with
// durable acks). An ISR that shrinks below min.insync.replicas meanwhile answers
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, a leader change NOT_LEADER_OR_FOLLOWER, the request's
// timeout REQUEST_TIMED_OUT: the batch may or may not survive.
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

// produceWait is an appended batch whose acknowledgement waits for durability, or, under
// acks=all, for the in-sync replicas.
type produceWait struct {
	p     *partition.Partition
	end   int64
	epoch int32 // the leadership the batch was appended under
	out   *kmsg.ProduceResponseTopicPartition
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
			w, code := b.appendProduced(t.Topic, tp.Partition, tp.Records, req, out)
			out.ErrorCode = code
			failed = failed || code != 0
			if code == 0 && req.Acks != 0 {
				w.out = out
				waits = append(waits, w)
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
			wait := w.p.WaitDurable
			if req.Acks == -1 {
				wait = func(ctx context.Context, end int64) error { return w.p.WaitReplicated(ctx, end, w.epoch) }
			}
			if err := wait(ctx, w.end); err != nil {
				w.out.ErrorCode = errorCode(err)
				w.out.BaseOffset = -1
			}
		}
		return server.Reply{Msg: resp}
	}
}

// appendProduced validates and appends one partition's batch, filling out. It returns
// what to wait for when the append succeeded.
func (b *Broker) appendProduced(topic string, index int32, batch []byte, req *kmsg.ProduceRequest,
	out *kmsg.ProduceResponseTopicPartition) (produceWait, int16) {
	led, code, pm := b.replicas.led(topic, index)
	if code == 0 && b.handingOver.Load() {
		code = kerr.NotLeaderForPartition.Code // shutting down: see handOver
	}
	if code != 0 {
		if req.Version >= 10 { // KIP-951
			out.CurrentLeader.LeaderID, out.CurrentLeader.LeaderEpoch = pm.Leader, pm.LeaderEpoch
		}
		return produceWait{}, code
	}
	if led.meta.Internal {
		return produceWait{}, kerr.InvalidTopicException.Code
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
		return produceWait{}, produceRejection(allRecordErrors(batch, h, err, rules), out)
	}
	var guard *partition.Guard
	if h.IsTransactional() {
		g := p.Guard(h.ProducerID) // before verifying, so a marker in between voids it
		if code := b.verifyTransactional(req.TransactionID, h, topic, index); code != 0 {
			return produceWait{}, code
		}
		guard = &g
	}
	if req.Acks == -1 && int(tc.MinInsyncReplicas) > len(pm.ISR) {
		return produceWait{}, kerr.NotEnoughReplicas.Code
	}
	// Timestamps and compression.type last, as Kafka's LogValidator runs just before
	// the append: a recompressed batch is a new slice, which Append then owns.
	if batch, h, err = conformBatch(batch, h, tc, rules); err != nil {
		b.log.Debug("rejected produce batch", "topic", topic, "partition", index, "err", err)
		return produceWait{}, produceRejection(err, out)
	}
	var res partition.AppendResult
	if guard != nil {
		res, err = p.AppendGuarded(batch, h, *guard)
	} else {
		res, err = p.Append(batch, h)
	}
	if err != nil {
		return produceWait{}, errorCode(err)
	}
	out.BaseOffset = res.BaseOffset
	out.LogAppendTime = res.LogAppendTime
	out.LogStartOffset = p.Log().StartOffset()
	b.metrics.producedBytes.Add(float64(len(batch)))
	return produceWait{p: p, end: res.LastOffset + 1, epoch: res.LeaderEpoch}, 0
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

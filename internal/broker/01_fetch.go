package broker

// Fetch v4-16, sessionless: a client asking for a session gets session id 0, which
// KIP-227 defines as "no session", and keeps sending full requests. v13+ names topics by
// id. The Pending long-polls: it reads, and while fewer than min_bytes are available and
// max_wait has not passed, waits for any requested partition's high watermark to move.
//
// Record data never passes through user space: each partition's Records field holds a
// placeholder that the server replaces with the log's file ranges (sendfile).
// read_committed reads stop at the last stable offset and list the aborted transactions
// in the range returned, which clients use to drop aborted records. A follower's fetch
// (with a replica id) reads up to the log end: see fetch_replica.go.

import (
	"reflect"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.Fetch, 4, 16, (*Broker).handleFetch) }

func (b *Broker) handleFetch(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.FetchRequest)
	return func() server.Reply {
		deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
		for {
			reply, size, waitOn := b.readFetch(req)
			if size >= int64(req.MinBytes) || len(waitOn) == 0 || !time.Now().Before(deadline) {
				b.metrics.fetchedBytes.Add(float64(size))
				return reply
			}
			reply.Release()
			if !waitForAny(r.Conn.Done.Done(), r.Conn.Draining, waitOn, time.Until(deadline)) {
				// The connection ended (the write will fail quietly) or the broker is
				// shutting down: answer with what there is.
				reply, _, _ = b.readFetch(req)
				return reply
			}
		}
	}
}

// readFetch builds one answer to req from what is readable now. It returns the reply,
// the record bytes in it, and the channels that signal new data on the partitions read
// (nil when an error means the client must act before waiting makes sense).
func (b *Broker) readFetch(req *kmsg.FetchRequest) (server.Reply, int64, []<-chan struct{}) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	img := b.meta.Image()
	var (
		sections []server.Section
		chunks   []*wlog.Chunks
		waitOn   []<-chan struct{}
		total    int64
		errored  bool
		hints    leaderHints
	)
	budget := int64(req.MaxBytes)
	if req.Version < 3 || budget <= 0 {
		budget = 1<<31 - 1
	}
	for _, t := range req.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		name := t.Topic
		if req.Version >= 13 {
			if mt, ok := img.TopicsByID[t.TopicID]; ok {
				name = mt.Name
			} else {
				name = ""
			}
		}
		for _, fp := range t.Partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = fp.Partition
			rp.PreferredReadReplica = -1
			// Kafka always sends a record set, empty rather than null: librdkafka rejects
			// a null one and drops the whole response.
			rp.RecordBatches = []byte{}
			if req.IsolationLevel == 1 {
				rp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			}
			led, code, pm := b.replicas.led(name, fp.Partition)
			p := led.Partition
			switch {
			case code == 0:
			case name == "" && req.Version >= 13:
				rp.ErrorCode = kerr.UnknownTopicID.Code
			case code == kerr.NotLeaderForPartition.Code && req.Version >= 16: // KIP-951
				rp.ErrorCode = code
				rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = pm.Leader, pm.LeaderEpoch
				hints.add(pm.Leader)
			default:
				rp.ErrorCode = code
			}
			if p == nil {
				errored = true
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			limit := min(int64(fp.PartitionMaxBytes), budget)
			var c *wlog.Chunks
			var err error
			if replica, brokerEpoch := fetchingReplica(req); replica >= 0 {
				var urgent bool
				c, urgent, err = b.readForFollower(led, name, replica, brokerEpoch, fp, int(max(limit, 1)), &rp)
				errored = errored || urgent
				waitOn = append(waitOn, p.Grown())
			} else {
				waitOn = append(waitOn, p.Changed())
				c, err = readForConsumer(p, req.IsolationLevel, fp, int(max(limit, 1)), &rp)
				errored = errored || c == nil
			}
			switch {
			case err != nil:
				rp.ErrorCode = errorCode(err)
				errored = true
			case c == nil: // a follower's diverging epoch: no data
			case int64(c.Size) == 0:
				c.Release()
			case total > 0 && int64(c.Size) > limit:
				// Only the first partition with data may exceed the limits (KIP-74).
				c.Release()
			default:
				ph := server.NewPlaceholder()
				rp.RecordBatches = ph
				sections = append(sections, server.Section{Placeholder: ph, Ranges: fileRanges(c)})
				chunks = append(chunks, c)
				total += int64(c.Size)
				budget -= int64(c.Size)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if errored {
		waitOn = nil
	}
	resp.Brokers = endpoints(hints, img, func(id int32, host string, port int32, rack *string) kmsg.FetchResponseBroker {
		return kmsg.FetchResponseBroker{NodeID: id, Host: host, Port: port, Rack: rack}
	})
	release := func() {
		for _, c := range chunks {
			c.Release()
		}
	}
	return server.Reply{Msg: resp, Sections: sections, Release: release}, total, waitOn
}

func fileRanges(c *wlog.Chunks) []server.FileRange {
	out := make([]server.FileRange, 0, len(c.List))
	for _, r := range c.List {
		out = append(out, server.FileRange{File: r.File, Pos: r.Pos, Len: int64(r.Len)})
	}
	return out
}

// waitForAny waits until one of chans is closed or d passes; false if done or draining
// closed first.
func waitForAny(done, draining <-chan struct{}, chans []<-chan struct{}, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	cases := make([]reflect.SelectCase, 0, len(chans)+3)
	cases = append(cases,
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(done)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(draining)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)})
	for _, ch := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	chosen, _, _ := reflect.Select(cases)
	return chosen > 1
}

// readForConsumer checks a consumer's view of the leader epoch (KIP-320: a stale one is
// FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH, a last fetched epoch that
// diverges gets the diverging epoch and no data), then reads.
func readForConsumer(p *partition.Partition, isolation int8, fp kmsg.FetchRequestTopicPartition,
	maxBytes int, rp *kmsg.FetchResponseTopicPartition) (*wlog.Chunks, error) {
	if err := p.CheckLeaderEpoch(fp.CurrentLeaderEpoch); err != nil {
		return nil, err
	}
	if diverging, epoch, end := p.Diverging(fp.LastFetchedEpoch, fp.FetchOffset); diverging {
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = p.HighWatermark(), p.LastStableOffset(), p.Log().StartOffset()
		rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = epoch, end
		return nil, nil
	}
	return readPartition(p, isolation, fp.FetchOffset, maxBytes, rp)
}

// readPartition reads one partition for a fetch, filling the offsets of rp: up to the
// high watermark for read_uncommitted, up to the last stable offset with the aborted
// transactions in range for read_committed.
func readPartition(p *partition.Partition, isolation int8, offset int64, maxBytes int,
	rp *kmsg.FetchResponseTopicPartition) (*wlog.Chunks, error) {
	rp.LogStartOffset = p.Log().StartOffset()
	if isolation != 1 {
		c, hw, err := p.Read(offset, maxBytes)
		rp.HighWatermark, rp.LastStableOffset = hw, p.LastStableOffset()
		return c, err
	}
	c, lso, aborted, err := p.ReadCommitted(offset, maxBytes)
	rp.HighWatermark, rp.LastStableOffset = p.HighWatermark(), lso
	for _, a := range aborted {
		at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
		rp.AbortedTransactions = append(rp.AbortedTransactions, at)
	}
	return c, err
}

package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
)

// A follower's Fetch, as the leader serves it: the follower names itself (the replica id,
// or from v15 KIP-903's replica state with its broker epoch), and reads up to the log
// end rather than the high watermark. The offset it asks for is its log end, which the
// leader records (partition.FollowerFetched) to move the high watermark and to judge
// whether it is in sync; an ISR change that follows goes to the controller. A follower
// whose last fetched epoch ends earlier here gets the diverging epoch instead of data
// (KIP-279), at once.

// fetchingReplica is the broker a fetch comes from and its broker epoch, or -1 for a
// consumer.
func fetchingReplica(req *kmsg.FetchRequest) (int32, int64) {
	if req.Version >= 15 {
		return req.ReplicaState.ID, req.ReplicaState.Epoch
	}
	return req.ReplicaID, -1
}

// readForFollower reads one partition for a follower's fetch, filling rp. urgent is set
// when the answer must go back now (a diverging epoch).
func (b *Broker) readForFollower(led ledReplica, topic string, replica int32, brokerEpoch int64,
	fp kmsg.FetchRequestTopicPartition, maxBytes int, rp *kmsg.FetchResponseTopicPartition) (c *wlog.Chunks, urgent bool, err error) {
	p := led.Partition
	rp.LogStartOffset, rp.HighWatermark, rp.LastStableOffset = p.Log().StartOffset(), p.HighWatermark(), p.LastStableOffset()
	if br, ok := b.meta.Image().Brokers[replica]; ok && brokerEpoch >= 0 && brokerEpoch < br.Epoch {
		b.log.Warn("fetch from a stale incarnation of a broker refused", "topic", topic, "partition", p.Index(),
			"replica", replica, "epoch", brokerEpoch, "registered", br.Epoch)
		return nil, true, kerr.StaleBrokerEpoch
	}
	lastFetchedEpoch := int32(-1)
	if fp.LastFetchedEpoch >= 0 {
		lastFetchedEpoch = fp.LastFetchedEpoch
	}
	res, err := p.FollowerFetched(partition.ReplicaFetch{
		Replica: replica, BrokerEpoch: brokerEpoch, CurrentEpoch: fp.CurrentLeaderEpoch,
		Offset: fp.FetchOffset, LastFetchedEpoch: lastFetchedEpoch,
	})
	if err != nil {
		b.log.Info("follower fetch refused", "topic", topic, "partition", p.Index(), "replica", replica, "err", err)
		return nil, true, err
	}
	if res.Expand != nil {
		// As Kafka's leader does, ask only for brokers the controller would take: not
		// fenced, not shutting down, and fetching as the incarnation it registered
		// (KIP-841, KIP-903).
		br, ok := b.meta.Image().Brokers[replica]
		if ok && !br.Fenced && !br.ShuttingDown && (brokerEpoch < 0 || brokerEpoch == br.Epoch) {
			b.log.Info("follower caught up; adding it to the ISR", "topic", topic, "partition", p.Index(), "replica", replica, "isr", res.Expand.ISR)
			b.proposeISR(led.meta, p, res.Expand)
		} else {
			p.ISRChangeDone(res.Expand)
		}
	}
	rp.HighWatermark, rp.LastStableOffset = p.HighWatermark(), p.LastStableOffset()
	if res.Diverging {
		rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = res.DivergingEpoch, res.DivergingEnd
		return nil, true, nil
	}
	c, err = p.ReadReplica(fp.FetchOffset, maxBytes)
	return c, false, err
}

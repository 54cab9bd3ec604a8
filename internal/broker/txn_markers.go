package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/txn"
)

// markerWriter writes a transaction's markers where its partitions are led: on this
// broker directly, on every other leader with one WriteTxnMarkers request, all leaders at
// once. Each call is one attempt at the leaders of the image current at the call; the
// coordinator calls again for the partitions that failed, every MarkerRetryBackoff until
// they succeed or its __transaction_state partition is given up (ctx), so a leader that
// moved or could not be reached is retried at whichever broker leads the partition then.
type markerWriter struct{ b *Broker }

// markerRequestTimeout bounds one WriteTxnMarkers request to another broker, as Kafka's
// request.timeout.ms bounds its marker channel's requests: a leader that does not answer
// costs a retry, not the transaction.
const markerRequestTimeout = 30 * time.Second

// WriteMarkers implements txn.Markers. A partition missing from this broker's image is
// gone (UNKNOWN_TOPIC_OR_PARTITION, which the coordinator counts as done), as Kafka's
// coordinator skips partitions its metadata cache no longer has.
func (w markerWriter) WriteMarkers(ctx context.Context, producerID int64, epoch int16, commit bool,
	coordinatorEpoch int32, partitions []txn.TopicPartition) map[txn.TopicPartition]error {
	b := w.b
	img := b.meta.Image()
	failed := map[txn.TopicPartition]error{}
	byLeader := map[int32][]txn.TopicPartition{}
	for _, tp := range partitions {
		mt, ok := img.Topics[tp.Topic]
		switch {
		case !ok || tp.Partition < 0 || int(tp.Partition) >= len(mt.Partitions):
			failed[tp] = kerr.UnknownTopicOrPartition
		case mt.Partitions[tp.Partition].Leader < 0:
			failed[tp] = fmt.Errorf("%w: %s-%d is offline", kerr.LeaderNotAvailable, tp.Topic, tp.Partition)
		default:
			leader := mt.Partitions[tp.Partition].Leader
			byLeader[leader] = append(byLeader[leader], tp)
		}
	}

	var mu sync.Mutex
	var wg sync.WaitGroup
	for leader, tps := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errs []error
			if leader == b.cfg.NodeID {
				writes := make([]markerWrite, len(tps))
				for i, tp := range tps {
					writes[i] = markerWrite{producerID, epoch, commit, coordinatorEpoch, tp.Topic, tp.Partition}
				}
				errs = b.writeMarkersHere(ctx, writes)
			} else {
				errs = b.sendMarkers(ctx, img, leader, producerID, epoch, commit, coordinatorEpoch, tps)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, tp := range tps {
				if err := errs[i]; err != nil {
					failed[tp] = leaderMarkerError(leader, tp, err)
				}
			}
		}()
	}
	wg.Wait()
	return failed
}

// leaderMarkerError is how the coordinator sees a leader's refusal of a marker. A leader
// that does not know a partition this broker's image has is behind on metadata (the topic
// is new to it), not proof that the partition is gone: it is retried, as Kafka's marker
// channel retries UNKNOWN_TOPIC_OR_PARTITION, instead of letting the coordinator drop the
// marker. Everything else keeps its Kafka error, which the coordinator acts on (fenced
// coordinator or producer epoch: abandon; others: retry).
func leaderMarkerError(leader int32, tp txn.TopicPartition, err error) error {
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("broker %d does not know %s-%d yet (%s); retrying", leader, tp.Topic, tp.Partition,
			kerr.UnknownTopicOrPartition.Message)
	}
	return err
}

// sendMarkers asks broker leader to write producerID's marker to tps, in one
// WriteTxnMarkers request, and returns each partition's error (nil: durable there).
func (b *Broker) sendMarkers(ctx context.Context, img *cluster.Image, leader int32, producerID int64, epoch int16,
	commit bool, coordinatorEpoch int32, tps []txn.TopicPartition) []error {
	errs := make([]error, len(tps))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	cl, err := b.peers.client(img, leader)
	if err != nil {
		return fail(err)
	}
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = producerID, epoch, commit, coordinatorEpoch
	for _, tp := range tps {
		i := slices.IndexFunc(m.Topics, func(t kmsg.WriteTxnMarkersRequestMarkerTopic) bool { return t.Topic == tp.Topic })
		if i < 0 {
			mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			mt.Topic = tp.Topic
			m.Topics = append(m.Topics, mt)
			i = len(m.Topics) - 1
		}
		m.Topics[i].Partitions = append(m.Topics[i].Partitions, tp.Partition)
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.Markers = append(req.Markers, m)

	rctx, cancel := context.WithTimeout(ctx, markerRequestTimeout)
	defer cancel()
	resp, err := cl.Request(rctx, req)
	if err != nil {
		return fail(fmt.Errorf("writing transaction markers on broker %d at %s: %w", leader, cl.Addr(), err))
	}
	codes := map[txn.TopicPartition]int16{}
	for _, rm := range resp.(*kmsg.WriteTxnMarkersResponse).Markers {
		if rm.ProducerID != producerID {
			continue
		}
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				codes[txn.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = rp.ErrorCode
			}
		}
	}
	for i, tp := range tps {
		code, ok := codes[tp]
		if !ok {
			errs[i] = fmt.Errorf("broker %d did not answer for the marker of %s-%d", leader, tp.Topic, tp.Partition)
			continue
		}
		errs[i] = kerr.ErrorForCode(code)
	}
	return errs
}

// markerWrite is one marker for one partition.
type markerWrite struct {
	producerID       int64
	epoch            int16
	commit           bool
	coordinatorEpoch int32
	topic            string
	index            int32
}

// writeMarkersHere writes markers to partitions this broker leads and returns each one's
// error once all are durable or failed: UNKNOWN_TOPIC_OR_PARTITION when the metadata has
// no such partition, NOT_LEADER_OR_FOLLOWER when another broker leads it, or the
// partition's refusal (a fenced coordinator epoch or producer epoch). Every marker is
// appended before any is waited for, so that one fsync can serve them all.
func (b *Broker) writeMarkersHere(ctx context.Context, writes []markerWrite) []error {
	errs := make([]error, len(writes))
	appended := make([]appendedMarker, len(writes))
	for i, w := range writes {
		appended[i], errs[i] = b.appendMarker(w)
	}
	for i, m := range appended {
		if errs[i] == nil {
			errs[i] = b.awaitMarker(ctx, m)
		}
	}
	return errs
}

// appendedMarker is a marker appended to a partition led here, not yet known to be on
// every in-sync replica.
type appendedMarker struct {
	markerWrite
	p     *partition.Partition
	end   int64
	epoch int32 // the leadership it was appended under
}

func (b *Broker) appendMarker(w markerWrite) (appendedMarker, error) {
	led, code, _ := b.replicas.led(w.topic, w.index)
	if code != 0 {
		return appendedMarker{}, kerr.ErrorForCode(code)
	}
	res, err := led.AppendMarker(w.producerID, w.epoch, w.commit, w.coordinatorEpoch)
	if err != nil {
		return appendedMarker{}, err
	}
	return appendedMarker{markerWrite: w, p: led.Partition, end: res.LastOffset + 1, epoch: res.LeaderEpoch}, nil
}

// awaitMarker waits until m is on every in-sync replica, as Kafka writes markers with
// acks=all. A marker on __consumer_offsets then settles the producer's pending
// transactional offsets in the group coordinator, which must not expose offsets whose
// commit could still be lost.
func (b *Broker) awaitMarker(ctx context.Context, m appendedMarker) error {
	if err := m.p.WaitReplicated(ctx, m.end, m.epoch); err != nil {
		return err
	}
	if m.topic == cluster.ConsumerOffsetsTopic {
		b.groups.CompleteTxn(m.index, m.producerID, m.commit)
	}
	return nil
}

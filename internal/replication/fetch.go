package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
)

// position is where one partition's fetch started.
type position struct {
	offset    int64
	lastEpoch int32
}

// fetchSlack is how much longer than the leader's max wait a fetch may take before the
// fetcher gives up on the connection.
const fetchSlack = 10 * time.Second

// round fetches once for parts and applies the answer.
func (ft *fetcher) round(parts []Followed) error {
	// The previous round's appends are fsynced before the leader hears of them (see the
	// package doc).
	for _, f := range parts {
		if err := f.Replica.WaitDurable(ft.ctx, f.Replica.Log().EndOffset()); err != nil {
			if ft.ctx.Err() != nil {
				return errStopped
			}
			ft.cfg.Logger.Warn("follower replica cannot sync; not fetching it", "topic", f.Replica.Topic(),
				"partition", f.Replica.Index(), "err", err)
			ft.backOff(f)
		}
	}
	client, err := ft.peer()
	if err != nil {
		return err
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = ft.cfg.NodeID
	req.ReplicaState.ID, req.ReplicaState.Epoch = ft.cfg.NodeID, ft.cfg.BrokerEpoch()
	req.MaxWaitMillis = int32(ft.cfg.MaxWait.Milliseconds())
	req.MinBytes, req.MaxBytes = ft.cfg.MinBytes, ft.cfg.MaxBytes
	req.SessionID, req.SessionEpoch = 0, -1 // full requests, no fetch session
	byPartition := map[*partition.Partition]position{}
	topics := map[[16]byte]int{}
	for _, f := range parts {
		offset, lastEpoch := f.Replica.FetchPosition()
		byPartition[f.Replica] = position{offset: offset, lastEpoch: lastEpoch}
		i, ok := topics[f.TopicID]
		if !ok {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = f.Replica.Topic(), f.TopicID
			req.Topics = append(req.Topics, rt)
			i = len(req.Topics) - 1
			topics[f.TopicID] = i
		}
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.CurrentLeaderEpoch = f.Replica.Index(), f.LeaderEpoch
		fp.FetchOffset, fp.LastFetchedEpoch = offset, lastEpoch
		fp.LogStartOffset = f.Replica.Log().StartOffset()
		fp.PartitionMaxBytes = ft.cfg.PartitionMaxBytes
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, fp)
	}
	ctx, cancel := context.WithTimeout(ft.ctx, ft.cfg.MaxWait+fetchSlack)
	defer cancel()
	kresp, err := client.Request(ctx, req)
	if err != nil {
		return fmt.Errorf("fetching from leader %d at %s: %w", ft.leader, client.Addr(), err)
	}
	resp := kresp.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		return fmt.Errorf("fetching from leader %d: %w", ft.leader, kerr.ErrorForCode(resp.ErrorCode))
	}
	for _, rt := range resp.Topics {
		for i := range rt.Partitions {
			rp := &rt.Partitions[i]
			for _, f := range parts {
				if f.TopicID != rt.TopicID && f.Replica.Topic() != rt.Topic || f.Replica.Index() != rp.Partition {
					continue
				}
				if ft.current(f) {
					ft.apply(f, byPartition[f.Replica], rp)
				}
			}
		}
	}
	return nil
}

// apply takes one partition's answer.
func (ft *fetcher) apply(f Followed, pos position, rp *kmsg.FetchResponseTopicPartition) {
	p := f.Replica
	log := ft.cfg.Logger.With("topic", p.Topic(), "partition", p.Index(), "leader", ft.leader, "leaderEpoch", f.LeaderEpoch)
	var err error
	switch rp.ErrorCode {
	case 0:
		if rp.DivergingEpoch.Epoch >= 0 || rp.DivergingEpoch.EndOffset >= 0 {
			_, err = p.TruncateDiverging(rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset)
			break
		}
		if len(rp.RecordBatches) > 0 {
			if _, err = p.AppendReplicated(rp.RecordBatches, f.LeaderEpoch); errors.Is(err, partition.ErrNotFollower) {
				return // the leadership changed under the fetch; the next round knows
			}
			if err != nil {
				break
			}
		}
		err = p.FollowLeader(rp.HighWatermark, rp.LogStartOffset)
	case kerr.OffsetOutOfRange.Code:
		if pos.offset < rp.LogStartOffset {
			log.Info("the leader's log starts past this replica's end; starting over there", "end", pos.offset, "leaderStart", rp.LogStartOffset)
			err = p.Reset(rp.LogStartOffset)
			break
		}
		// Past the leader's end: only an unclean election gets here. Cut back to
		// what was committed and ask again.
		var end int64
		if end, err = p.TruncateDiverging(-1, -1); err == nil && end == pos.offset {
			err = fmt.Errorf("offset %d is out of the leader's range: %w", pos.offset, kerr.OffsetOutOfRange)
		}
	default:
		err = kerr.ErrorForCode(rp.ErrorCode)
	}
	if err != nil {
		if errors.Is(err, wlog.ErrInvalidBatch) || errors.Is(err, wlog.ErrNotContiguous) {
			log.Error("refusing data from the leader", "err", err)
		} else {
			log.Debug("replica fetch of a partition failed; backing off", "err", err)
		}
		ft.backOff(f)
	}
}

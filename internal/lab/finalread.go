package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/waybill/waybill/internal/clientopt"
)

// logContents is what a final read found in one topic.
type logContents struct {
	records  map[int32][]Record
	complete map[int32]bool  // partitions read to their end
	ends     map[int32]int64 // the offset after each partition's last data record
}

// readAll reads every partition of topic from its start to its end (the last stable
// offset when readCommitted), within timeout. Control records are kept while reading, so
// a partition ending in a transaction marker is known to be read to its end.
func readAll(ctx context.Context, bootstrap, topic string, readCommitted bool, timeout time.Duration) (*logContents, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	admin, err := kgo.NewClient(kgo.SeedBrokers(clientopt.List(bootstrap)...))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	list := adm.ListEndOffsets
	isolation := kgo.ReadUncommitted()
	var listed kadm.ListedOffsets
	if readCommitted {
		list, isolation = adm.ListCommittedOffsets, kgo.ReadCommitted()
		stableCtx, cancel := context.WithTimeout(ctx, timeout/2)
		listed = waitStable(stableCtx, adm, topic)
		cancel()
	}
	if listed == nil {
		listed, err = list(ctx, topic)
	}
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing the end offsets of %s: %w", topic, err)
	}
	lc := &logContents{records: map[int32][]Record{}, complete: map[int32]bool{}, ends: map[int32]int64{}}
	wanted := map[int32]int64{} // partition → end offset still to reach
	start := map[int32]kgo.Offset{}
	listed.Each(func(o kadm.ListedOffset) {
		lc.records[o.Partition] = nil
		if o.Offset <= 0 {
			lc.complete[o.Partition] = true
			return
		}
		wanted[o.Partition] = o.Offset
		start[o.Partition] = kgo.NewOffset().AtStart()
	})
	if len(wanted) == 0 {
		return lc, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(clientopt.List(bootstrap)...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchIsolationLevel(isolation), kgo.KeepControlRecords())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for len(wanted) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				lc.records[r.Partition] = append(lc.records[r.Partition], Record{Offset: r.Offset, Value: string(r.Value)})
				lc.ends[r.Partition] = r.Offset + 1
			}
			if end, ok := wanted[r.Partition]; ok && r.Offset+1 >= end {
				delete(wanted, r.Partition)
				lc.complete[r.Partition] = true
			}
		})
	}
	return lc, nil
}

// record adds the final read to the recorder's history.
func (lc *logContents) record(rec *Recorder, readCommitted bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	lc.appendTo(&rec.h, readCommitted, true)
}

// appendTo adds the final read to h as its final polls; with markComplete, the
// partitions read to their end are marked so.
func (lc *logContents) appendTo(h *History, readCommitted, markComplete bool) {
	now := time.Now()
	if h.FinalReadComplete == nil {
		h.FinalReadComplete = map[int32]bool{}
	}
	for p, recs := range lc.records {
		h.Polls = append(h.Polls, Poll{Partition: p, ReadCommitted: readCommitted, Final: true, Records: recs, Time: now})
		if markComplete && lc.complete[p] {
			h.FinalReadComplete[p] = true
		}
	}
}

// waitStable waits, until ctx ends, for every partition of topic to have no open
// transaction (last stable offset = high watermark). A coordinator answers a commit once
// it is decided and writes the markers that make it visible just after, as Kafka's does,
// so a read_committed read right after the last commit would miss it. It returns the last
// stable offsets once they reach the high watermarks, nil if ctx ended first.
func waitStable(ctx context.Context, adm *kadm.Client, topic string) kadm.ListedOffsets {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		hw, err1 := adm.ListEndOffsets(ctx, topic)
		lso, err2 := adm.ListCommittedOffsets(ctx, topic)
		if err1 == nil && err2 == nil && hw.Error() == nil && lso.Error() == nil {
			stable := true
			hw.Each(func(o kadm.ListedOffset) {
				if l, ok := lso.Lookup(topic, o.Partition); !ok || l.Offset < o.Offset {
					stable = false
				}
			})
			if stable {
				return lso
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}

package exactlyonce_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	readUncommitted int8 = 0
	readCommitted   int8 = 1
)

// abortedTxn is one entry of a Fetch response's aborted transactions list.
type abortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// partitionRead is what one partition yielded to a reader between two offsets, as
// franz-go's own fetch processing (kgo.ProcessFetchPartition) turns Fetch responses into
// records: for read_committed, aborted records are dropped using the broker's aborted
// transactions list, and reads stop at the last stable offset.
type partitionRead struct {
	Records []*kgo.Record // data records; control records are dropped
	Aborted []abortedTxn  // union of the aborted transactions lists, in first-seen order
	// From the last response.
	HighWatermark    int64
	LastStableOffset int64
}

// Values are the records' values as strings, in offset order.
func (r partitionRead) Values() []string {
	out := make([]string, len(r.Records))
	for i, rec := range r.Records {
		out[i] = string(rec.Value)
	}
	return out
}

// readPartition issues Fetch requests with the given isolation level from offset from
// until the reader's position reaches to, and returns what it read. It fails the test if
// that does not happen within timeout.
func readPartition(t *testing.T, cl *kgo.Client, topic string, partition int32, isolation int8,
	from, to int64, timeout time.Duration) partitionRead {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	id := topicID(ctx, t, cl, topic)
	var (
		out  partitionRead
		seen = map[abortedTxn]bool{}
		pos  = from
	)
	for pos < to {
		rp, err := fetchOnce(ctx, cl, topic, id, partition, isolation, pos)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("reading %s/%d (isolation %d) from %d to %d: stuck at %d: %v",
					topic, partition, isolation, from, to, pos, err)
			}
			time.Sleep(50 * time.Millisecond) // transient: the broker may be loading
			continue
		}
		for _, a := range rp.AbortedTransactions {
			at := abortedTxn{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset}
			if !seen[at] {
				seen[at] = true
				out.Aborted = append(out.Aborted, at)
			}
		}
		out.HighWatermark, out.LastStableOffset = rp.HighWatermark, rp.LastStableOffset
		fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
			KeepControlRecords: true,
			Offset:             pos,
			IsolationLevel:     isolationLevel(isolation),
			Topic:              topic,
			Partition:          partition,
		}, rp, kgo.DefaultDecompressor(), nil)
		for _, r := range fp.Records {
			if r.Offset < to && !r.Attrs.IsControl() {
				out.Records = append(out.Records, r)
			}
		}
		if next <= pos {
			if ctx.Err() != nil {
				t.Fatalf("reading %s/%d (isolation %d) from %d to %d: no progress at %d (hw %d, lso %d)",
					topic, partition, isolation, from, to, pos, rp.HighWatermark, rp.LastStableOffset)
			}
			continue
		}
		pos = next
	}
	return out
}

func isolationLevel(isolation int8) kgo.IsolationLevel {
	if isolation == readCommitted {
		return kgo.ReadCommitted()
	}
	return kgo.ReadUncommitted()
}

// fetchOnce sends one Fetch for one partition and returns its answer for the partition.
func fetchOnce(ctx context.Context, cl *kgo.Client, topic string, id [16]byte, partition int32,
	isolation int8, offset int64) (*kmsg.FetchResponseTopicPartition, error) {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 100
	req.MinBytes = 1
	req.MaxBytes = 4 << 20
	req.IsolationLevel = isolation
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	p := kmsg.NewFetchRequestTopicPartition()
	p.Partition = partition
	p.FetchOffset = offset
	p.PartitionMaxBytes = 1 << 20
	p.CurrentLeaderEpoch = -1
	p.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, p)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, errors.New("fetch answered for other partitions than asked")
	}
	rp := &resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		return nil, err
	}
	return rp, nil
}

// topicID looks the topic's id up, which Fetch v13+ addresses topics by.
func topicID(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) [16]byte {
	t.Helper()
	for {
		details, err := kadm.NewClient(cl).ListTopics(ctx, topic)
		if err == nil {
			if d, ok := details[topic]; ok && d.Err == nil {
				return d.ID
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("looking up the id of topic %s: %v", topic, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

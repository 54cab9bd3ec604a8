package exactlyonce_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicOffsets are a topic's per-partition offsets as ListOffsets answers them.
type topicOffsets struct {
	Stable map[int32]int64 // read_committed latest: the last stable offset
	High   map[int32]int64 // read_uncommitted latest: the high watermark
}

// listTopicOffsets asks ListOffsets for the last stable offset and the high watermark of
// every partition of topic, retrying transient errors for up to 20s.
func listTopicOffsets(t *testing.T, cl *kgo.Client, topic string) topicOffsets {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	for {
		stable, err := adm.ListCommittedOffsets(ctx, topic)
		if err == nil {
			err = stable.Error()
		}
		var high kadm.ListedOffsets
		if err == nil {
			high, err = adm.ListEndOffsets(ctx, topic)
		}
		if err == nil {
			err = high.Error()
		}
		if err == nil {
			return topicOffsets{Stable: partitionOffsets(stable, topic), High: partitionOffsets(high, topic)}
		}
		if ctx.Err() != nil {
			t.Fatalf("listing offsets of %s: %v", topic, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func partitionOffsets(l kadm.ListedOffsets, topic string) map[int32]int64 {
	out := map[int32]int64{}
	for p, o := range l[topic] {
		out[p] = o.Offset
	}
	return out
}

// readTopic reads every partition of topic from offset 0: read_committed up to the last
// stable offset, read_uncommitted up to the high watermark, both as ListOffsets reports
// them when the read starts.
func readTopic(t *testing.T, cl *kgo.Client, topic string, isolation int8) map[int32]partitionRead {
	t.Helper()
	offsets := listTopicOffsets(t, cl, topic)
	end := offsets.High
	if isolation == readCommitted {
		end = offsets.Stable
	}
	out := map[int32]partitionRead{}
	for p, to := range end {
		out[p] = readPartition(t, cl, topic, p, isolation, 0, to, 30*time.Second)
	}
	return out
}

// allValues are the values of every record read, over all partitions.
func allValues(reads map[int32]partitionRead) []string {
	var out []string
	for _, r := range reads {
		out = append(out, r.Values()...)
	}
	return out
}

// waitAllStable waits until every partition's last stable offset reaches its high
// watermark: with no transaction open, that happens once the coordinator has written
// the markers of the ended ones, which Kafka does after answering EndTxn.
func waitAllStable(t *testing.T, cl *kgo.Client, topic string, timeout time.Duration) topicOffsets {
	t.Helper()
	var o topicOffsets
	waitUntil(t, timeout, 20*time.Millisecond, "the last stable offsets of "+topic+" to reach the high watermarks", func() bool {
		o = listTopicOffsets(t, cl, topic)
		for p, high := range o.High {
			if o.Stable[p] != high {
				return false
			}
		}
		return true
	})
	return o
}

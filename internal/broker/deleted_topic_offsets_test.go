package broker_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestDeletedTopicTakesItsCommittedOffsets: a group's committed offsets of a topic go
// when the topic is deleted, as in Kafka, while its offsets of another topic stay; they
// stay gone across a broker restart; and a consumer of the group reading the topic
// created again under the same name starts at its auto.offset.reset, not at the offset
// committed for the deleted one.
func TestDeletedTopicTakesItsCommittedOffsets(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	const doomed, kept, group = "doomed", "kept", "doomed-g"
	createTopic(ctx, t, cl, doomed, 2, nil)
	createTopic(ctx, t, cl, kept, 1, nil)
	produceTo(ctx, t, cl, doomed, map[int32]int{0: 4, 1: 2})
	produceTo(ctx, t, cl, kept, map[int32]int{0: 2})

	read := consumeAndCommit(ctx, t, b.Addr(), group, 8, doomed, kept)
	if want := "doomed/0@0-3 doomed/1@0-1 kept/0@0-1"; read != want {
		t.Fatalf("the group read %s, want %s", read, want)
	}
	want := map[string]map[int32]int64{doomed: {0: 4, 1: 2}, kept: {0: 2}}
	if got := groupOffsets(ctx, t, cl, group); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("committed offsets %v, want %v", got, want)
	}

	deleteTopic(ctx, t, cl, doomed)
	// The coordinator deletes them in the background, right after the deletion.
	want = map[string]map[int32]int64{kept: {0: 2}}
	deleted, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	for got := groupOffsets(ctx, t, cl, group); fmt.Sprint(got) != fmt.Sprint(want); got = groupOffsets(ctx, t, cl, group) {
		select {
		case <-deleted.Done():
			t.Fatalf("committed offsets %v 10 s after the topic was deleted, want %v", got, want)
		case <-time.After(20 * time.Millisecond):
		}
	}

	b.Restart()
	cl = newClient(t, b.Addr(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if got := groupOffsets(ctx, t, cl, group); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("committed offsets after a restart %v, want %v", got, want)
	}

	createTopic(ctx, t, cl, doomed, 2, nil)
	produceTo(ctx, t, cl, doomed, map[int32]int{0: 6})
	if read := consumeAndCommit(ctx, t, b.Addr(), group, 6, doomed); read != "doomed/0@0-5" {
		t.Fatalf("the group read %s from the topic created again, want doomed/0@0-5 (from the start, its reset)", read)
	}
}

// produceTo writes n records to each partition of topic given in counts.
func produceTo(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, counts map[int32]int) {
	t.Helper()
	var rs []*kgo.Record
	for p, n := range counts {
		for i := range n {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%d-%d", p, i)})
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
}

// consumeAndCommit reads n records of topics as a member of group, starting where the
// group committed or else at the start, commits them and leaves. It returns what it read
// as "topic/partition@first-last" ranges, sorted.
func consumeAndCommit(ctx context.Context, t *testing.T, addr, group string, n int, topics ...string) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*kgo.Record
	for len(got) < n {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records: %v", len(got), n, ctx.Err())
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetching %s/%d: %v", topic, p, err) })
		got = append(got, fetches.Records()...)
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("committing: %v", err)
	}
	return describeRanges(got)
}

// describeRanges shows records as sorted "topic/partition@first-last" ranges, assuming
// each partition's records are contiguous.
func describeRanges(rs []*kgo.Record) string {
	first, last := map[string]int64{}, map[string]int64{}
	for _, r := range rs {
		k := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
		if f, ok := first[k]; !ok || r.Offset < f {
			first[k] = r.Offset
		}
		if r.Offset > last[k] {
			last[k] = r.Offset
		}
	}
	var out []string
	for k := range first {
		out = append(out, fmt.Sprintf("%s@%d-%d", k, first[k], last[k]))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// groupOffsets returns every committed offset of group, by topic and partition.
func groupOffsets(ctx context.Context, t *testing.T, cl *kgo.Client, group string) map[string]map[int32]int64 {
	t.Helper()
	var offsets kadm.OffsetResponses
	retryRetriable(ctx, t, "OffsetFetch", func() error {
		var err error
		if offsets, err = kadm.NewClient(cl).FetchOffsets(ctx, group); err != nil {
			return err
		}
		return offsets.Error()
	})
	out := map[string]map[int32]int64{}
	for topic, ps := range offsets {
		out[topic] = map[int32]int64{}
		for p, o := range ps {
			out[topic][p] = o.At
		}
	}
	return out
}

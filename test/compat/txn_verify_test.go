package compat_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// endOfLogKey marks the non-transactional record appendEndMarkers writes to each
// partition: a reader that has seen it in every partition has read the whole log.
const endOfLogKey = "__end_of_log__"

// assertTransactionOutcome checks, with franz-go as the neutral reader, what the
// transactions of the client under test left in topic: a read_committed consumer sees
// exactly the committed values, each once, and a read_uncommitted consumer sees the
// committed and the aborted values, each as often as it was sent. Every transaction
// must have ended: the check appends an end marker to each partition, which a
// read_committed reader can pass only when no transaction is open before it.
func assertTransactionOutcome(ctx context.Context, t *testing.T, addr, topic string, committed, aborted []string) {
	t.Helper()
	appendEndMarkers(ctx, t, addr, topic)
	assertSameValues(t, "read_committed", readValuesToEnd(ctx, t, addr, topic, kgo.ReadCommitted()), committed)
	all := append(append([]string(nil), committed...), aborted...)
	assertSameValues(t, "read_uncommitted", readValuesToEnd(ctx, t, addr, topic, kgo.ReadUncommitted()), all)
}

// appendEndMarkers produces one non-transactional end-of-log record to each partition.
func appendEndMarkers(ctx context.Context, t *testing.T, addr, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for p := range endOffsets(ctx, t, addr, topic) {
		r := &kgo.Record{Topic: topic, Partition: p, Key: []byte(endOfLogKey)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("producing the end marker to %s/%d: %v", topic, p, err)
		}
	}
}

// readValuesToEnd reads topic from the start with the given isolation level until it
// has seen the end marker of every partition, and returns the values read before them.
func readValuesToEnd(ctx context.Context, t *testing.T, addr, topic string, isolation kgo.IsolationLevel) []string {
	t.Helper()
	partitions := len(endOffsets(ctx, t, addr, topic))
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(isolation),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ended := map[int32]bool{}
	var values []string
	for len(ended) < partitions {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s reader of %s: saw the end of %d of %d partitions before the deadline; values so far: %q",
				isolationName(isolation), topic, len(ended), partitions, values)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Fatalf("%s reader: fetching %s/%d: %v", isolationName(isolation), topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			switch {
			case string(r.Key) == endOfLogKey:
				ended[r.Partition] = true
			case ended[r.Partition]:
				t.Errorf("%s reader: %s/%d offset %d: value %q after the end marker", isolationName(isolation), topic, r.Partition, r.Offset, r.Value)
			default:
				values = append(values, string(r.Value))
			}
		})
	}
	return values
}

// assertSameValues fails unless got and want hold the same values equally often.
func assertSameValues(t *testing.T, reader string, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, v := range want {
		count[v]++
	}
	for _, v := range got {
		count[v]--
	}
	var missing, extra []string
	for v, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, v)
		}
		for ; n < 0; n++ {
			extra = append(extra, v)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("%s reader: %d values missing: %s", reader, len(missing), strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("%s reader: %d values read that should not be visible (or read too often): %s", reader, len(extra), strings.Join(extra, ", "))
	}
}

func isolationName(l kgo.IsolationLevel) string {
	if l == kgo.ReadCommitted() {
		return "read_committed"
	}
	return "read_uncommitted"
}

// txnValues names the values of one transaction of a test: "<txn>-value-NNN".
func txnValues(txn string, n int) []string {
	_, values := keyedValues(txn, n)
	return values
}

// stableCommittedOffsets returns the group's committed offset for each partition of
// topic that has one, fetched as a KIP-447 consumer does: OffsetFetch names every
// partition and sets require_stable. A transaction's offsets reach the group with its
// markers, which the coordinator writes after answering EndTxn; until then the
// partition answers UNSTABLE_OFFSET_COMMIT and, like Kafka's consumer, this retries.
// (Kafka applies require_stable only to named partitions: a fetch of all of a group's
// partitions lists committed ones only, so it cannot wait for a transaction.)
func stableCommittedOffsets(ctx context.Context, t *testing.T, addr, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	req.RequireStable = true
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	for p := range endOffsets(ctx, t, addr, topic) {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	for {
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("OffsetFetch of group %s: %v", group, err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			t.Fatalf("OffsetFetch of group %s: %v", group, err)
		}
		out, unstable := map[int32]int64{}, false
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				err := kerr.ErrorForCode(rp.ErrorCode)
				switch {
				case errors.Is(err, kerr.UnstableOffsetCommit):
					unstable = true
				case err != nil:
					t.Fatalf("OffsetFetch of group %s, %s/%d: %v", group, rt.Topic, rp.Partition, err)
				case rt.Topic == topic && rp.Offset >= 0:
					out[rp.Partition] = rp.Offset
				}
			}
		}
		if !unstable {
			return out
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("offsets of group %s still unstable at the deadline", group)
		}
	}
}

// Package compat_test drives a real Waybill broker with third-party Kafka clients
// (sarama, kafka-go, librdkafka through kcat, confluent-kafka-python and
// confluent-kafka-go) and asserts on what the clients actually read back.
package compat_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// testTimeout bounds every test; a client that hangs fails the test instead of the run.
const testTimeout = 40 * time.Second

// startBroker starts a fresh single-node broker for one test.
func startBroker(t *testing.T) *testbroker.Broker {
	t.Helper()
	return testbroker.Start(t)
}

// testContext is cancelled at the test's deadline or when the test ends.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newAdmin returns a franz-go admin client: the neutral tool used to set up topics and
// to check what the client under test left behind (end offsets, committed offsets).
func newAdmin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// createTopic creates a topic and fails the test on any error.
func createTopic(ctx context.Context, t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	resp, err := newAdmin(t, addr).CreateTopic(ctx, partitions, 1, nil, topic)
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	if resp.Err != nil {
		t.Fatalf("creating topic %s: %v", topic, resp.Err)
	}
}

// endOffsets returns each partition's high watermark.
func endOffsets(ctx context.Context, t *testing.T, addr, topic string) map[int32]int64 {
	t.Helper()
	listed, err := newAdmin(t, addr).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	for _, o := range listed[topic] {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", topic, o.Partition, o.Err)
		}
		out[o.Partition] = o.Offset
	}
	return out
}

// committedOffsets returns the group's committed offset for each partition of topic.
func committedOffsets(ctx context.Context, t *testing.T, addr, group, topic string) map[int32]int64 {
	t.Helper()
	resp, err := newAdmin(t, addr).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetching offsets of group %s: %v", group, err)
	}
	if err := resp.Error(); err != nil {
		t.Fatalf("fetching offsets of group %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, o := range resp[topic] {
		out[p] = o.At
	}
	return out
}

// record is one record as a client saw it, reduced to what the tests compare.
type record struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key"`
	Value     string `json:"value"`
}

// keyedValues makes n unique key/value pairs; prefix keeps batches apart.
func keyedValues(prefix string, n int) (keys, values []string) {
	for i := range n {
		keys = append(keys, fmt.Sprintf("%s-key-%03d", prefix, i))
		values = append(values, fmt.Sprintf("%s-value-%03d", prefix, i))
	}
	return keys, values
}

// assertSameKeyValues fails unless got holds exactly the sent key/value pairs, each once.
func assertSameKeyValues(t *testing.T, got []record, keys, values []string) {
	t.Helper()
	want := map[string]string{}
	for i := range keys {
		want[keys[i]] = values[i]
	}
	seen := map[string]bool{}
	for _, r := range got {
		v, ok := want[r.Key]
		switch {
		case !ok:
			t.Errorf("read unexpected record at partition %d offset %d: %q=%q", r.Partition, r.Offset, r.Key, r.Value)
		case seen[r.Key]:
			t.Errorf("read key %q twice (partition %d offset %d)", r.Key, r.Partition, r.Offset)
		case v != r.Value:
			t.Errorf("key %q: read value %q, sent %q", r.Key, r.Value, v)
		}
		seen[r.Key] = true
	}
	if len(seen) != len(want) {
		t.Errorf("read %d distinct keys of the %d sent", len(seen), len(want))
	}
}

// assertContiguous fails unless, in every partition, the records' offsets run without
// gap or repeat from start[partition] (0 when absent), in the order they were read.
func assertContiguous(t *testing.T, got []record, start map[int32]int64) {
	t.Helper()
	next := map[int32]int64{}
	for p, o := range start {
		next[p] = o
	}
	for _, r := range got {
		if r.Offset != next[r.Partition] {
			t.Errorf("partition %d: read offset %d, expected %d", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition] = r.Offset + 1
	}
}

// nextOffsets is, for each partition, one past the last offset in got (or start).
func nextOffsets(got []record, start map[int32]int64) map[int32]int64 {
	next := map[int32]int64{}
	for p, o := range start {
		next[p] = o
	}
	for _, r := range got {
		if r.Offset+1 > next[r.Partition] {
			next[r.Partition] = r.Offset + 1
		}
	}
	return next
}

// assertOffsetsEqual compares per-partition offsets, naming what they are.
func assertOffsetsEqual(t *testing.T, what string, got, want map[int32]int64) {
	t.Helper()
	parts := map[int32]bool{}
	for p := range got {
		parts[p] = true
	}
	for p := range want {
		parts[p] = true
	}
	sorted := make([]int32, 0, len(parts))
	for p := range parts {
		sorted = append(sorted, p)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, p := range sorted {
		g, gok := got[p]
		w, wok := want[p]
		if gok != wok || g != w {
			t.Errorf("%s, partition %d: got %d (present %v), want %d (present %v)", what, p, g, gok, w, wok)
		}
	}
}

// sortByPartitionOffset orders records as a log would hold them.
func sortByPartitionOffset(rs []record) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Partition != rs[j].Partition {
			return rs[i].Partition < rs[j].Partition
		}
		return rs[i].Offset < rs[j].Offset
	})
}

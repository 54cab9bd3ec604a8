package testbroker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewClient connects a franz-go client to addr and closes it when the test ends.
func NewClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl := OpenClient(t, addr, opts...)
	t.Cleanup(cl.Close)
	return cl
}

// OpenClient connects a franz-go client to addr; the caller closes it.
func OpenClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return cl
}

// CreateTopic creates topic with the given partitions and one replica.
func CreateTopic(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	adm := kadm.NewClient(OpenClient(t, addr))
	defer adm.Close()
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

// CountValues reads topic from the start of every partition up to the end offsets listed
// when it begins, with a fresh client, and counts how often each value occurs.
func CountValues(t testing.TB, addr, topic string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(OpenClient(t, addr))
	defer adm.Close()
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	start := map[int32]kgo.Offset{}
	remaining := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		start[o.Partition] = kgo.NewOffset().AtStart()
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	cl := OpenClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
	defer cl.Close()
	found := map[string]int{}
	for len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s back: %v; partitions not read to their end offset: %v", topic, err, remaining)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("reading %s[%d] back: %v", topic, p, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			end, want := remaining[r.Partition]
			if !want || r.Offset >= end {
				return
			}
			found[string(r.Value)]++
			if r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	return found
}

package durability_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// readAll reads topic from the start of every partition up to the end offsets listed when
// it begins, with a fresh client, and counts how often each value occurs.
func readAll(t *testing.T, addr, topic string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends := listEndOffsets(ctx, t, addr, topic)
	start := map[int32]kgo.Offset{}
	remaining := map[int32]int64{}
	for p, end := range ends {
		start[p] = kgo.NewOffset().AtStart()
		if end > 0 {
			remaining[p] = end
		}
	}
	cl := testbroker.OpenClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
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

// listEndOffsets returns each partition's end offset (the high watermark).
func listEndOffsets(ctx context.Context, t *testing.T, addr, topic string) map[int32]int64 {
	t.Helper()
	adm := kadm.NewClient(testbroker.OpenClient(t, addr))
	defer adm.Close()
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends
}

// deliveryAudit compares what producers were told with what a full read found.
type deliveryAudit struct {
	acked      int      // values acknowledged to the producer
	found      int      // distinct values read back
	extra      int      // distinct values read back that were not acknowledged
	missing    []string // acknowledged but not read back: lost
	duplicated []string // read back more than once
	copies     int      // occurrences beyond the first, over all duplicated values
}

func auditDelivery(acked map[string]bool, found map[string]int) deliveryAudit {
	a := deliveryAudit{acked: len(acked), found: len(found)}
	for v := range acked {
		if found[v] == 0 {
			a.missing = append(a.missing, v)
		}
	}
	for v, n := range found {
		if !acked[v] {
			a.extra++
		}
		if n > 1 {
			a.duplicated = append(a.duplicated, v)
			a.copies += n - 1
		}
	}
	return a
}

// firstFew keeps messages short when many values are listed.
func firstFew(values []string) []string {
	if len(values) > 5 {
		return values[:5]
	}
	return values
}

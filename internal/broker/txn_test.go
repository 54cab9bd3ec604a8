package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestTransactionsCommitAndAbort writes committed and aborted transactions over two
// partitions; a read_committed consumer sees exactly the committed values and a
// read_uncommitted one sees the aborted ones too.
func TestTransactionsCommitAndAbort(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := newClient(t, b.Addr())
	createTopic(ctx, t, admin, "txn", 2, nil)
	producer := newClient(t, b.Addr(), kgo.TransactionalID("txn-test"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))

	var committed, all []string
	for round := 0; round < 6; round++ {
		if err := producer.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			v := fmt.Sprintf("r%d-%d", round, i)
			if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "txn", Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			all = append(all, v)
			if round%2 == 0 {
				committed = append(committed, v)
			}
		}
		commit := kgo.TransactionEndTry(round%2 == 0)
		if err := producer.EndTransaction(ctx, commit); err != nil {
			t.Fatalf("ending transaction %d: %v", round, err)
		}
	}
	got := consumeAll(ctx, t, b.Addr(), "txn", kgo.ReadCommitted(), len(committed))
	if !sameSet(got, committed) {
		t.Fatalf("read_committed saw %d values, want the %d committed", len(got), len(committed))
	}
	got = consumeAll(ctx, t, b.Addr(), "txn", kgo.ReadUncommitted(), len(all))
	if !sameSet(got, all) {
		t.Fatalf("read_uncommitted saw %d values, want all %d", len(got), len(all))
	}
}

// consumeAll reads topic from the start until want values arrived, then checks that no
// more arrive before the end offsets are reached.
func consumeAll(ctx context.Context, t *testing.T, addr, topic string, isolation kgo.IsolationLevel, want int) []string {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(isolation))
	defer cl.Close()
	var got []string
	for len(got) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d values: %v", len(got), want, ctx.Err())
		}
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, v := range a {
		seen[v]++
	}
	for _, v := range b {
		if seen[v] == 0 {
			return false
		}
		seen[v]--
	}
	return true
}

package lab

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A live producer delivers values added while it runs, in and out of transactions, and
// the final read sees each once.
func TestLiveProducerDeliversOnDemand(t *testing.T) {
	target, err := NewNodeTarget(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	for _, id := range []string{"acks-1", "transactional"} {
		t.Run(id, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			row, _ := RowByID(id)
			topic := "live-" + id
			if err := createTopic(ctx, target.Bootstrap(), topic, 2, nil, nil); err != nil {
				t.Fatal(err)
			}
			rec := NewRecorder(topic, 2)
			lp := NewLiveProducer(ProducerConfig{Topic: topic, Settings: row, Prefix: "v-",
				TransactionalID: topic + "-txn", Recorder: rec})
			in, err := lp.Start(ctx, target.Bootstrap())
			if err != nil {
				t.Fatal(err)
			}
			var cur HistoryCursor
			seen := 0
			for round := 1; round <= 2; round++ {
				values := lp.Add(4)
				if want := fmt.Sprintf("v-%d", (round-1)*4); values[0] != want {
					t.Fatalf("first value of round %d is %q, want %q", round, values[0], want)
				}
				if err := lp.WaitConfirmed(ctx, round*4); err != nil {
					t.Fatalf("round %d: %v (confirmed %d)", round, err, lp.Confirmed())
				}
				var h *History
				h, cur = rec.Since(cur)
				seen += len(h.Sends)
				if seen != round*4 {
					t.Fatalf("round %d: %d sends seen through the cursor, want %d", round, seen, round*4)
				}
			}
			select {
			case <-in.Done():
				t.Fatal("the incarnation ended while waiting for work")
			default:
			}
			h := rec.History()
			if err := AddFinalRead(ctx, h, target.Bootstrap(), topic, row.Transactional, true, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if row.Transactional {
				if len(h.Txns) != 2 || h.Txns[0].Num == h.Txns[1].Num {
					t.Fatalf("transactions %+v: want two, numbered apart", h.Txns)
				}
			}
			res := Check(h)
			if res.Stored != 8 || res.Acked != 8 || len(res.Counts) != 0 {
				t.Fatalf("stored %d, acked %d, anomalies %v; want 8, 8, none", res.Stored, res.Acked, res.Counts)
			}
			lp.Crash(in)
		})
	}
}

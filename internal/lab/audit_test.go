package lab

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadFinal records what a topic holds as complete final polls, so the checker finds
// every acknowledged value and, once a value's ack is dropped from the log, counts it lost.
func TestReadFinalRecordsTheLog(t *testing.T) {
	target, err := NewNodeTarget(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic, partitions, n = "read-final", 2, 10
	if err := createTopic(ctx, target.Bootstrap(), topic, partitions, nil, nil); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(target.Bootstrap()), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rec := NewRecorder(topic, partitions)
	for i := 0; i < n; i++ {
		r, err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("v-%d", i))}).First()
		if err != nil {
			t.Fatal(err)
		}
		rec.Send(Send{Producer: 1, Value: string(r.Value), Partition: r.Partition, Seq: i, Txn: NoTxn,
			Outcome: OutcomeOf(err), Offset: r.Offset})
	}
	// A value acknowledged at an offset past the end of the log is lost, and its ack
	// truncated.
	rec.Send(Send{Producer: 1, Value: "phantom", Partition: 0, Seq: n, Txn: NoTxn, Outcome: OK, Offset: 1000})

	if err := ReadFinal(ctx, rec, target.Bootstrap(), topic, false, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	h := rec.History()
	for p := int32(0); p < partitions; p++ {
		if !h.FinalReadComplete[p] {
			t.Errorf("partition %d not marked read to its end", p)
		}
	}
	res := Check(h)
	if res.Stored != n || res.Acked != n+1 {
		t.Errorf("stored %d, acked %d; want %d, %d", res.Stored, res.Acked, n, n+1)
	}
	if want := map[Anomaly]int{Lost: 1, AckedTruncated: 1}; fmt.Sprint(res.Counts) != fmt.Sprint(want) {
		t.Errorf("anomalies %v, want %v; examples %v", res.Counts, want, res.Examples)
	}
}

package lab

import (
	"fmt"
	"testing"
	"time"
)

// synthetic is a clean history of sends values from 4 producers over 8 partitions, read
// in full by the final read and by passes consumers (each pass a new consumer reading
// every partition in polls of up to 100 records), every value processed once.
func synthetic(sends, passes int) *History {
	const producers, partitions = 4, 8
	h := &History{Topic: "bench", Partitions: partitions, FinalReadComplete: map[int32]bool{},
		Sends: make([]Send, 0, sends), ConsumersRan: true}
	logs := make([][]Record, partitions)
	seq := make([]int, producers)
	for i := range sends {
		pr, p := i%producers, int32(i/producers%partitions)
		v := fmt.Sprintf("p%d-%d", pr, seq[pr])
		off := int64(len(logs[p]))
		h.Sends = append(h.Sends, Send{Producer: pr, Value: v, Partition: p, Seq: seq[pr], Txn: NoTxn,
			Outcome: OK, Offset: off, Start: t0, End: t0})
		seq[pr]++
		logs[p] = append(logs[p], Record{Offset: off, Value: v})
	}
	for p := range int32(partitions) {
		h.Polls = append(h.Polls, Poll{Consumer: -1, Partition: p, ReadCommitted: true, Final: true,
			Records: logs[p], Time: t0.Add(time.Hour)})
		h.FinalReadComplete[p] = true
	}
	for c := range passes {
		for p := range int32(partitions) {
			for i := 0; i < len(logs[p]); i += 100 {
				h.Polls = append(h.Polls, Poll{Consumer: c, Partition: p, Assignment: 1,
					Records: logs[p][i:min(i+100, len(logs[p]))], Time: t0.Add(time.Duration(i) * time.Millisecond)})
			}
		}
	}
	for _, s := range h.Sends {
		h.Processed = append(h.Processed, Processed{Consumer: 0, Value: s.Value, Time: t0})
	}
	return h
}

func TestCheckSyntheticClean(t *testing.T) {
	r := Check(synthetic(10_000, 2))
	if len(r.Counts) != 0 || r.Stored != 10_000 || r.Consumed != 10_000 {
		t.Errorf("%+v\n%s", r, exampleText(r))
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, passes := range []int{1, 9} {
		b.Run(fmt.Sprintf("sends=100k,records=%dk", (passes+1)*100), func(b *testing.B) {
			h := synthetic(100_000, passes)
			for b.Loop() {
				Check(h)
			}
		})
	}
}

package lab

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

// t0 is the start of every synthetic history.
var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// at is ms milliseconds into a synthetic history.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// hist builds synthetic histories.
type hist struct{ h History }

func newHist() *hist {
	return &hist{h: History{Topic: "t", Partitions: 3, FinalReadComplete: map[int32]bool{}}}
}

// send records a non-transactional send; seq is the producer's order.
func (b *hist) send(producer int, value string, p int32, seq int, o Outcome, off int64) *hist {
	return b.txnSend(producer, NoTxn, value, p, seq, o, off)
}

func (b *hist) txnSend(producer, txn int, value string, p int32, seq int, o Outcome, off int64) *hist {
	b.h.Sends = append(b.h.Sends, Send{Producer: producer, Value: value, Partition: p, Seq: seq, Txn: txn,
		Outcome: o, Offset: off, Start: at(seq), End: at(seq + 1)})
	return b
}

// txn records the end of a transaction; commitMs < 0 leaves CommitStart zero.
func (b *hist) txn(producer, num int, o Outcome, commitMs int) *hist {
	t := Txn{Producer: producer, Num: num, Outcome: o, End: at(commitMs + 1)}
	if commitMs >= 0 {
		t.CommitStart = at(commitMs)
	}
	b.h.Txns = append(b.h.Txns, t)
	return b
}

func (b *hist) poll(consumer int, p int32, assignment int, rc bool, ms int, recs ...Record) *hist {
	b.h.Polls = append(b.h.Polls, Poll{Consumer: consumer, Partition: p, Assignment: assignment,
		ReadCommitted: rc, Records: recs, Time: at(ms)})
	return b
}

// final records the final read of p, read_committed, complete when the flag says so.
func (b *hist) final(p int32, complete bool, recs ...Record) *hist {
	b.h.Polls = append(b.h.Polls, Poll{Consumer: -1, Partition: p, ReadCommitted: true, Final: true,
		Records: recs, Time: at(1_000_000)})
	if complete {
		b.h.FinalReadComplete[p] = true
	}
	return b
}

func (b *hist) processed(consumer int, values ...string) *hist {
	b.h.ConsumersRan = true
	for _, v := range values {
		b.h.Processed = append(b.h.Processed, Processed{Consumer: consumer, Value: v, Time: at(500_000)})
	}
	return b
}

func (b *hist) mutate(f func(h *History)) *hist { f(&b.h); return b }

func (b *hist) history() *History { return &b.h }

// rec is one record; recs are records of consecutive offsets from off.
func rec(off int64, value string) Record { return Record{Offset: off, Value: value} }

func recs(off int64, values ...string) []Record {
	rs := make([]Record, len(values))
	for i, v := range values {
		rs[i] = rec(off+int64(i), v)
	}
	return rs
}

// vals are the values prefix0 … prefix(n-1).
func vals(prefix string, n int) []string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return vs
}

// log5 is partition 0 holding a0…a4 at offsets 0-4, sent in order by producer 0, acked,
// and read completely by the final read; no consumers.
func log5() *hist {
	b := newHist()
	for i, v := range vals("a", 5) {
		b.send(0, v, 0, i, OK, int64(i))
	}
	return b.final(0, true, recs(0, vals("a", 5)...)...)
}

type checkCase struct {
	name string
	h    *hist
	want map[Anomaly]int
}

// runCases checks each case's Counts exactly, so that an anomaly firing where it should
// not fails as surely as one missing.
func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.h.history())
			want := tc.want
			if want == nil {
				want = map[Anomaly]int{}
			}
			if !maps.Equal(r.Counts, want) {
				t.Errorf("counts %v, want %v\nexamples:\n%s", r.Counts, want, exampleText(r))
			}
			for a, n := range r.Counts {
				if len(r.Examples[a]) == 0 || len(r.Examples[a]) > min(n, maxExamples) {
					t.Errorf("%s: %d examples for a count of %d", a, len(r.Examples[a]), n)
				}
			}
			for a := range r.Examples {
				if r.Counts[a] == 0 {
					t.Errorf("examples of %s without a count", a)
				}
			}
		})
	}
}

func exampleText(r Result) string {
	var b strings.Builder
	for _, a := range Anomalies {
		for _, e := range r.Examples[a] {
			fmt.Fprintf(&b, "  %s: %s\n", a, e)
		}
	}
	return b.String()
}

func TestCheckCountHas(t *testing.T) {
	r := Result{Counts: map[Anomaly]int{Lost: 3}}
	if r.Count(Lost) != 3 || !r.Has(Lost) {
		t.Errorf("Lost: count %d, has %v", r.Count(Lost), r.Has(Lost))
	}
	if r.Count(Duplicated) != 0 || r.Has(Duplicated) {
		t.Errorf("Duplicated: count %d, has %v", r.Count(Duplicated), r.Has(Duplicated))
	}
	var zero Result
	if zero.Has(Lost) || zero.Count(Lost) != 0 {
		t.Error("the zero Result has anomalies")
	}
}

func TestCheckTotals(t *testing.T) {
	h := newHist().
		send(0, "a0", 0, 0, OK, 0).
		send(0, "a1", 0, 1, OK, 1).
		send(0, "a2", 0, 2, Unknown, -1).
		send(0, "a3", 0, 3, Failed, -1).
		send(0, "a4", 0, 4, Unknown, -1).
		poll(1, 0, 1, false, 10, recs(0, "a0", "a1")...).
		poll(1, 0, 1, false, 20, rec(1, "a1")). // re-read: backwards, same value
		final(0, true, recs(0, "a0", "a1", "a2")...).
		history()
	r := Check(h)
	got := [6]int{r.Sent, r.Acked, r.Failed, r.Unknown, r.Stored, r.Consumed}
	if want := [6]int{5, 2, 1, 2, 3, 2}; got != want {
		t.Errorf("sent, acked, failed, unknown, stored, consumed = %v, want %v", got, want)
	}
	if want := map[Anomaly]int{PollBackwards: 1}; !maps.Equal(r.Counts, want) {
		t.Errorf("counts %v, want %v", r.Counts, want)
	}
}

// TestCheckCleanHistory is a realistic run without faults: three partitions, two
// producers with interleaved offsets, an unknown send that made it and one that did not, a
// failed send, two consumers with a rebalance that hands partition 1 over at the committed
// offset, and every value processed once.
func TestCheckCleanHistory(t *testing.T) {
	b := newHist()
	next := [3]int64{} // the next offset of each partition
	logs := [3][]Record{}
	seq := [2]int{}
	for i := range 60 {
		producer := i % 2
		p := int32(i / 2 % 3)
		v := fmt.Sprintf("p%d-%d", producer, seq[producer])
		switch {
		case i == 17: // timed out but written: present, its offset unknown
			b.send(producer, v, p, seq[producer], Unknown, -1)
		case i == 31: // timed out before it was written
			b.send(producer, v, p, seq[producer], Unknown, -1)
			seq[producer]++
			continue
		case i == 44: // refused
			b.send(producer, v, p, seq[producer], Failed, -1)
			seq[producer]++
			continue
		default:
			b.send(producer, v, p, seq[producer], OK, next[p])
		}
		seq[producer]++
		logs[p] = append(logs[p], rec(next[p], v))
		next[p]++
	}
	for p := range int32(3) {
		b.final(p, true, logs[p]...)
	}
	// Consumer 1 owns partitions 0 and 1, then a rebalance gives partition 1 to consumer 2
	// from the committed offset 6.
	b.poll(1, 0, 1, false, 100, logs[0][:7]...).
		poll(1, 1, 1, false, 100, logs[1][:6]...).
		poll(2, 2, 1, false, 100, logs[2][:4]...).
		poll(1, 0, 1, false, 200, logs[0][7:]...).
		poll(2, 1, 1, false, 300, logs[1][6:12]...).
		poll(2, 1, 1, false, 400, logs[1][12:]...).
		poll(2, 2, 1, false, 400, logs[2][4:]...)
	b.h.Commits = append(b.h.Commits, Commit{Consumer: 1, Partition: 1, Offset: 6, Outcome: OK, Time: at(150)})
	for p := range 3 {
		for _, r := range logs[p] {
			b.processed(1+p%2, r.Value)
		}
	}
	r := Check(b.history())
	if len(r.Counts) != 0 || r.Examples != nil {
		t.Errorf("counts %v\n%s", r.Counts, exampleText(r))
	}
	if r.Sent != 60 || r.Acked != 57 || r.Failed != 1 || r.Unknown != 2 || r.Stored != 58 || r.Consumed != 58 {
		t.Errorf("totals %+v", r)
	}
}

// TestCheckCleanTransactions is a clean transactional run: a committed transaction on two
// partitions, an aborted one whose records the read_committed consumer and final read skip,
// and the commit and abort markers taking offsets nobody reads.
func TestCheckCleanTransactions(t *testing.T) {
	h := newHist().
		// Transaction 0 commits t0 (p0@0), t1 (p1@0), t2 (p0@1); markers at p0@2, p1@1.
		txnSend(0, 0, "t0", 0, 0, OK, 0).
		txnSend(0, 0, "t1", 1, 1, OK, 0).
		txnSend(0, 0, "t2", 0, 2, OK, 1).
		txn(0, 0, OK, 10).
		// Transaction 1 aborts t3 (p0@3), t4 (p1@2); markers at p0@4, p1@3.
		txnSend(0, 1, "t3", 0, 3, OK, 3).
		txnSend(0, 1, "t4", 1, 4, OK, 2).
		txn(0, 1, Failed, -1).
		// Transaction 2 commits t5 (p0@5), t6 (p1@4); markers at p0@6, p1@5.
		txnSend(0, 2, "t5", 0, 5, OK, 5).
		txnSend(0, 2, "t6", 1, 6, OK, 4).
		txn(0, 2, OK, 30).
		poll(1, 0, 1, true, 15, recs(0, "t0", "t2")...).
		poll(1, 1, 1, true, 15, rec(0, "t1")).
		poll(1, 0, 1, true, 40, rec(5, "t5")).
		poll(1, 1, 1, true, 40, rec(4, "t6")).
		final(0, true, rec(0, "t0"), rec(1, "t2"), rec(5, "t5")).
		final(1, true, rec(0, "t1"), rec(4, "t6")).
		processed(1, "t0", "t1", "t2", "t5", "t6")
	r := Check(h.history())
	if len(r.Counts) != 0 {
		t.Errorf("counts %v\n%s", r.Counts, exampleText(r))
	}
}

func TestCheckDeterministic(t *testing.T) {
	b := newHist()
	// Many anomalies of each kind, so that examples must be chosen.
	for i := range 40 {
		b.send(0, fmt.Sprintf("v%02d", i), int32(i%2), i, OK, int64(i))
	}
	b.final(0, true, rec(100, "v00"), rec(101, "v00"), rec(102, "v02"), rec(103, "v02"), rec(104, "zz"))
	b.poll(3, 1, 1, false, 10, rec(9, "v01"), rec(3, "v03"), rec(30, "v05"))
	b.processed(1, "v00", "v00", "v02", "v02", "v02")
	h := b.history()
	first := Check(h)
	for range 20 {
		if r := Check(h); !reflect.DeepEqual(r, first) {
			t.Fatalf("results differ:\n%+v\n%+v", r, first)
		}
	}
	for a, ex := range first.Examples {
		if len(ex) > maxExamples {
			t.Errorf("%s: %d examples", a, len(ex))
		}
	}
	// The lost values of partition 0 are v04, v06, … and the examples are the lowest offsets.
	want := []string{
		`value "v04" acked at offset 4 of partition 0, absent from the final read although it reached the end`,
		`value "v06" acked at offset 6 of partition 0, absent from the final read although it reached the end`,
		`value "v08" acked at offset 8 of partition 0, absent from the final read although it reached the end`,
		`value "v10" acked at offset 10 of partition 0, absent from the final read although it reached the end`,
		`value "v12" acked at offset 12 of partition 0, absent from the final read although it reached the end`,
	}
	if got := first.Examples[Lost]; !reflect.DeepEqual(got, want) {
		t.Errorf("lost examples\n%q\nwant\n%q", got, want)
	}
}

// TestCheckExamples pins the wording of one example per anomaly.
func TestCheckExamples(t *testing.T) {
	cases := []struct {
		a    Anomaly
		h    *hist
		want string
	}{
		{Lost, log5().mutate(func(h *History) { h.FinalReadComplete[0] = false; dropFinal(h, "a2") }),
			`value "a2" acked at offset 2 of partition 0, absent from the reads although they reached offset 4`},
		{Unseen, log5().mutate(func(h *History) { h.FinalReadComplete[0] = false; dropFinal(h, "a4") }),
			`value "a4" acked at offset 4 of partition 0, unread: reads stopped at offset 3, short of the end`},
		{Duplicated, log5().mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(9, "a3")) }),
			`value "a3" at offsets 3 and 9 of partition 0`},
		{AbortedRead, log5().mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "zz")) }),
			`value "zz" read at offset 5 of partition 0 by the final read was never sent`},
		{InconsistentOffsets, log5().poll(2, 0, 1, false, 10, rec(3, "a4")),
			`offset 3 of partition 0 holds "a3" per the final read but "a4" per consumer 2`},
		{PollSkip, log5().poll(2, 0, 1, false, 10, rec(0, "a0"), rec(4, "a4")),
			`consumer 2 polled offset 0 then 4 of partition 0 (assignment 1), skipping 1-3, over 3 stored values from "a1" at 1`},
		{PollBackwards, log5().poll(2, 0, 1, false, 10, rec(3, "a3"), rec(2, "a2")),
			`consumer 2 polled offset 3 then 2 of partition 0 (assignment 1)`},
		{Reordered, log5().mutate(func(h *History) { h.Sends[1].Seq, h.Sends[2].Seq = 2, 1 }),
			`producer 0's value "a1" (seq 2) at offset 1 of partition 0, below its earlier "a2" (seq 1) at offset 2`},
		{Unprocessed, log5().processed(1, "a0", "a1", "a3", "a4"),
			`value "a2" at offset 2 of partition 0 in the final read was never processed`},
		{Reprocessed, log5().processed(1, vals("a", 5)...).processed(2, "a1").processed(1, "a1"),
			`value "a1" processed 3 times by consumers 1 and 2`},
		{PrecommittedRead, newHist().txnSend(0, 0, "t0", 0, 0, OK, 0).txn(0, 0, OK, 50).
			poll(1, 0, 1, true, 30, rec(0, "t0")).final(0, true, rec(0, "t0")),
			`value "t0" of transaction 0 of producer 0 read at offset 0 of partition 0 by consumer 1 (read_committed), 20ms before its commit was requested`},
	}
	for _, tc := range cases {
		t.Run(string(tc.a), func(t *testing.T) {
			r := Check(tc.h.history())
			if ex := r.Examples[tc.a]; len(ex) != 1 || ex[0] != tc.want {
				t.Errorf("examples %q, want %q\nall:\n%s", ex, tc.want, exampleText(r))
			}
		})
	}
}

// dropFinal removes value from every final read.
func dropFinal(h *History, value string) {
	for i := range h.Polls {
		if !h.Polls[i].Final {
			continue
		}
		var kept []Record
		for _, r := range h.Polls[i].Records {
			if r.Value != value {
				kept = append(kept, r)
			}
		}
		h.Polls[i].Records = kept
	}
}

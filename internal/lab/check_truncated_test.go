package lab

import (
	"strings"
	"testing"
)

// readUncommittedFinal makes the final reads read_uncommitted, so they show every record.
func readUncommittedFinal(h *History) {
	for i := range h.Polls {
		if h.Polls[i].Final {
			h.Polls[i].ReadCommitted = false
		}
	}
}

func TestCheckTruncatedRead(t *testing.T) {
	// tail is log5 plus producer 1's a5 and a6, whose sends timed out, read by consumer 1
	// at offsets 5 and 6 beyond the complete final read: a deposed leader's tail.
	tail := func() *hist {
		return log5().send(1, "a5", 0, 0, Unknown, -1).send(1, "a6", 0, 1, Unknown, -1).
			poll(1, 0, 1, false, 10, recs(0, "a0", "a1", "a2", "a3", "a4", "a5", "a6")...)
	}
	runCases(t, []checkCase{
		{name: "records read past the end of the final read",
			h:    tail(),
			want: map[Anomaly]int{TruncatedRead: 2}},
		{name: "a record read by two consumers counts once",
			h:    tail().poll(2, 0, 1, false, 20, recs(5, "a5", "a6")...),
			want: map[Anomaly]int{TruncatedRead: 2}},
		{name: "reads below the truncation point are fine",
			h: log5().send(1, "a5", 0, 0, Unknown, -1).
				poll(1, 0, 1, false, 10, recs(0, vals("a", 5)...)...)},
		{name: "past the end of an incomplete final read proves nothing",
			h: tail().mutate(func(h *History) { h.FinalReadComplete[0] = false })},
		{name: "an offset read, truncated and written again",
			// b5 now holds offset 5: also an inconsistent offset.
			h: tail().send(2, "b5", 0, 0, OK, 5).
				mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "b5")) }),
			want: map[Anomaly]int{TruncatedRead: 2, InconsistentOffsets: 1}},
		{name: "an offset the final read skips over",
			h: log5().mutate(func(h *History) { dropFinal(h, "a2"); h.Sends[2].Outcome = Unknown }).
				poll(1, 0, 1, false, 10, recs(0, vals("a", 5)...)...),
			want: map[Anomaly]int{TruncatedRead: 1}},
		{name: "an open transaction read_uncommitted, hidden from the read_committed final read",
			h: log5().txnSend(1, 0, "t0", 0, 0, OK, 5).poll(1, 0, 1, false, 10, rec(5, "t0"))},
		{name: "an aborted transaction read_uncommitted and gone from a read_uncommitted final read",
			// Nothing hides it from that final read: its record and its ack were cut.
			h: log5().txnSend(1, 0, "t0", 0, 0, OK, 5).txn(1, 0, Failed, -1).
				poll(1, 0, 1, false, 10, rec(5, "t0")).mutate(readUncommittedFinal),
			want: map[Anomaly]int{TruncatedRead: 1, AckedTruncated: 1}},
		{name: "without a final read nothing is truncated",
			h: newHist().send(0, "a0", 0, 0, OK, 0).poll(1, 0, 1, false, 10, rec(0, "a0")).
				poll(2, 0, 1, false, 10, rec(0, "b0")),
			want: map[Anomaly]int{InconsistentOffsets: 1, AbortedRead: 1}},
	})
}

func TestCheckAckedTruncated(t *testing.T) {
	runCases(t, []checkCase{
		{name: "acked and cut off the end of the log",
			h:    log5().send(0, "a5", 0, 5, OK, 5).send(0, "a6", 0, 6, OK, 6),
			want: map[Anomaly]int{AckedTruncated: 2, Lost: 2}},
		{name: "acked, truncated and stored again by a retry is not lost",
			// Another producer's b5 took offset 5 after the fail-over; a5 sent again landed at 6.
			h: log5().send(0, "a5", 0, 5, OK, 5).send(1, "b5", 0, 0, OK, 5).send(2, "a5", 0, 0, OK, 6).
				mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "b5"), rec(6, "a5")) }),
			want: map[Anomaly]int{AckedTruncated: 1, InconsistentOffsets: 1}},
		{name: "the same ack twice counts once",
			h:    log5().send(0, "a5", 0, 5, OK, 5).send(1, "a5", 0, 0, OK, 5),
			want: map[Anomaly]int{AckedTruncated: 1, Lost: 1}},
		{name: "lost without an ack offset is not truncated",
			h:    log5().send(0, "a5", 0, 5, OK, -1),
			want: map[Anomaly]int{Lost: 1}},
		{name: "past the end of an incomplete final read is unseen",
			h: log5().send(0, "a5", 0, 5, OK, 7).
				mutate(func(h *History) { h.FinalReadComplete[0] = false }),
			want: map[Anomaly]int{Unseen: 1}},
		{name: "an aborted transaction's ack hidden from the read_committed final read",
			h: log5().txnSend(1, 0, "t0", 0, 0, OK, 5).txn(1, 0, Failed, -1)},
		{name: "an aborted transaction's ack gone from a read_uncommitted final read",
			h: log5().txnSend(1, 0, "t0", 0, 0, OK, 5).txn(1, 0, Failed, -1).
				mutate(readUncommittedFinal),
			want: map[Anomaly]int{AckedTruncated: 1}},
		{name: "an aborted transaction's ack holding another value",
			h:    log5().txnSend(1, 0, "t0", 0, 0, OK, 4).txn(1, 0, Failed, -1),
			want: map[Anomaly]int{AckedTruncated: 1, InconsistentOffsets: 1}},
		{name: "a failed send is no ack",
			h: log5().send(0, "a5", 0, 5, Failed, 5)},
	})
}

// TestCheckPowerLossTruncation is a single node that acknowledged from the page cache and
// lost power: a5…a9, acked and read by a consumer, are gone, and the producer's next
// values b0…b2 reused offsets 5-7.
func TestCheckPowerLossTruncation(t *testing.T) {
	b := newHist()
	for i, v := range vals("a", 10) {
		b.send(0, v, 0, i, OK, int64(i))
	}
	for i, v := range vals("b", 3) {
		b.send(1, v, 0, i, OK, int64(5+i))
	}
	b.poll(1, 0, 1, false, 10, recs(0, vals("a", 10)...)...)
	b.final(0, true, append(recs(0, vals("a", 5)...), recs(5, vals("b", 3)...)...)...)
	runCases(t, []checkCase{{name: "power loss", h: b,
		want: map[Anomaly]int{Lost: 5, AckedTruncated: 5, TruncatedRead: 5, InconsistentOffsets: 3}}})

	r := Check(b.history())
	want := map[Anomaly][]string{
		AckedTruncated: {
			`value "a5" acked at offset 5 of partition 0 to producer 0, but the final read holds "b0" there; it is absent from the final read`,
			`value "a6" acked at offset 6 of partition 0 to producer 0, but the final read holds "b1" there; it is absent from the final read`,
			`value "a7" acked at offset 7 of partition 0 to producer 0, but the final read holds "b2" there; it is absent from the final read`,
			`value "a8" acked at offset 8 of partition 0 to producer 0, but the final read ended at offset 7; it is absent from the final read`,
			`value "a9" acked at offset 9 of partition 0 to producer 0, but the final read ended at offset 7; it is absent from the final read`,
		},
		TruncatedRead: {
			`value "a5" read at offset 5 of partition 0 by consumer 1, but the final read holds "b0" there`,
			`value "a6" read at offset 6 of partition 0 by consumer 1, but the final read holds "b1" there`,
			`value "a7" read at offset 7 of partition 0 by consumer 1, but the final read holds "b2" there`,
			`value "a8" read at offset 8 of partition 0 by consumer 1, but the final read ended at offset 7`,
			`value "a9" read at offset 9 of partition 0 by consumer 1, but the final read ended at offset 7`,
		},
	}
	for a, w := range want {
		if got := r.Examples[a]; strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s examples\n%s\nwant\n%s", a, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
	}
}

func TestCheckAckedTruncatedRetryExample(t *testing.T) {
	h := log5().send(0, "a5", 0, 5, OK, 5).send(1, "b5", 0, 0, OK, 5).send(2, "a5", 0, 0, OK, 6).
		mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "b5"), rec(6, "a5")) })
	got := Check(h.history()).Examples[AckedTruncated]
	want := `value "a5" acked at offset 5 of partition 0 to producer 0, but the final read holds "b5" there; the final read holds it at offset 6 of partition 0`
	if len(got) != 1 || got[0] != want {
		t.Errorf("examples %q, want %q", got, want)
	}
}

package lab

import "testing"

// log10 is partition 0 holding v0…v9 at offsets 0-9, read completely by the final read.
func log10() *hist {
	b := newHist()
	for i, v := range vals("v", 10) {
		b.send(0, v, 0, i, OK, int64(i))
	}
	return b.final(0, true, recs(0, vals("v", 10)...)...)
}

// span is the records of log10 from offset from to offset to, inclusive.
func span(from, to int64) []Record {
	return recs(from, vals("v", 10)[from:to+1]...)
}

func TestCheckPollSkip(t *testing.T) {
	// withAborted is partition 0 with v0…v4 at 0-4, an aborted transaction's t0, t1 at 5
	// and 6 (abort marker at 7) and v5…v6 at 8-9.
	withAborted := func(acked bool) *hist {
		o, off := Failed, int64(-1)
		if acked {
			o, off = OK, 5
		}
		b := newHist()
		for i, v := range vals("v", 5) {
			b.send(0, v, 0, i, OK, int64(i))
		}
		b.txnSend(1, 0, "t0", 0, 0, o, off).txnSend(1, 0, "t1", 0, 1, o, off+1).txn(1, 0, Failed, -1)
		b.send(0, "v5", 0, 5, OK, 8).send(0, "v6", 0, 6, OK, 9)
		return b.final(0, true, append(recs(0, vals("v", 5)...), rec(8, "v5"), rec(9, "v6"))...)
	}
	runCases(t, []checkCase{
		{name: "successive polls", h: log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, span(5, 9)...)},
		{name: "a gap between polls",
			h:    log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, span(7, 9)...),
			want: map[Anomaly]int{PollSkip: 1}},
		{name: "a gap inside one poll",
			h:    log10().poll(1, 0, 1, false, 10, rec(0, "v0"), rec(1, "v1"), rec(3, "v3")),
			want: map[Anomaly]int{PollSkip: 1}},
		{name: "two gaps",
			h:    log10().poll(1, 0, 1, false, 10, rec(0, "v0"), rec(2, "v2"), rec(9, "v9")),
			want: map[Anomaly]int{PollSkip: 2}},
		{name: "a gap where nothing is stored (a transaction marker)",
			h: newHist().send(0, "v0", 0, 0, OK, 0).send(0, "v1", 0, 1, OK, 2).
				final(0, true, rec(0, "v0"), rec(2, "v1")).
				poll(1, 0, 1, true, 10, rec(0, "v0")).poll(1, 0, 1, true, 20, rec(2, "v1"))},
		{name: "a reassignment resets the tracking",
			h: log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 2, false, 20, span(8, 9)...)},
		{name: "consumers are tracked separately",
			h: log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(2, 0, 1, false, 20, span(8, 9)...)},
		{name: "partitions are tracked separately",
			h: log10().send(0, "w0", 1, 10, OK, 0).final(1, true, rec(0, "w0")).
				poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 1, 1, false, 15, rec(0, "w0")).
				poll(1, 0, 1, false, 20, span(5, 9)...)},
		{name: "empty polls change nothing",
			h: log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 15).
				poll(1, 0, 1, false, 20, span(5, 9)...)},
		{name: "polls are taken in time order, not slice order",
			h: log10().poll(1, 0, 1, false, 20, span(5, 9)...).poll(1, 0, 1, false, 10, span(0, 4)...)},
		{name: "polls at equal times keep slice order",
			h: log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 10, span(5, 9)...)},
		{name: "the final read is not a consumer's poll",
			h: log10().final(0, true, span(8, 9)...)},
		{name: "aborted records skipped by a read_committed consumer",
			h: withAborted(false).poll(1, 0, 1, true, 10, span(0, 4)...).poll(1, 0, 1, true, 20, rec(8, "v5"), rec(9, "v6"))},
		{name: "acked aborted records skipped by a read_committed consumer",
			h: withAborted(true).poll(1, 0, 1, true, 10, span(0, 4)...).poll(1, 0, 1, true, 20, rec(8, "v5"), rec(9, "v6"))},
		{name: "aborted records another read_uncommitted consumer saw, skipped by a read_committed one",
			h: withAborted(false).
				poll(2, 0, 1, false, 10, append(span(0, 4), rec(5, "t0"), rec(6, "t1"), rec(8, "v5"), rec(9, "v6"))...).
				poll(1, 0, 1, true, 10, span(0, 4)...).poll(1, 0, 1, true, 20, rec(8, "v5"), rec(9, "v6"))},
		{name: "acked aborted records skipped by a read_uncommitted consumer",
			h:    withAborted(true).poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, rec(8, "v5"), rec(9, "v6")),
			want: map[Anomaly]int{PollSkip: 1}},
		{name: "a committed transaction's acked record skipped by a read_committed consumer",
			h: newHist().txnSend(0, 0, "t0", 0, 0, OK, 0).txnSend(0, 0, "t1", 0, 1, OK, 1).
				txnSend(0, 0, "t2", 0, 2, OK, 2).txn(0, 0, OK, 5).
				final(0, true, rec(0, "t0"), rec(2, "t2")).
				poll(1, 0, 1, true, 10, rec(0, "t0"), rec(2, "t2")),
			want: map[Anomaly]int{PollSkip: 1, Lost: 1, AckedTruncated: 1}},
		{name: "a lost value the consumer skipped is a skip too",
			h: log10().mutate(func(h *History) { dropFinal(h, "v5") }).
				poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, span(6, 9)...),
			want: map[Anomaly]int{PollSkip: 1, Lost: 1, AckedTruncated: 1}},
	})
}

func TestCheckPollBackwards(t *testing.T) {
	runCases(t, []checkCase{
		{name: "forwards", h: log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, span(5, 9)...)},
		{name: "a poll going back",
			h:    log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, span(3, 9)...),
			want: map[Anomaly]int{PollBackwards: 1}},
		{name: "the same offset again",
			h:    log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, span(4, 9)...),
			want: map[Anomaly]int{PollBackwards: 1}},
		{name: "back inside one poll",
			// 0 → 2 skips 1, 2 → 1 goes back.
			h:    log10().poll(1, 0, 1, false, 10, rec(0, "v0"), rec(2, "v2"), rec(1, "v1")),
			want: map[Anomaly]int{PollBackwards: 1, PollSkip: 1}},
		{name: "twice back",
			h: log10().poll(1, 0, 1, false, 10, span(0, 4)...).poll(1, 0, 1, false, 20, span(2, 6)...).
				poll(1, 0, 1, false, 30, span(5, 9)...),
			want: map[Anomaly]int{PollBackwards: 2}},
		{name: "a new assignment starting at the committed offset",
			h: log10().poll(1, 0, 1, false, 10, span(0, 6)...).poll(1, 0, 2, false, 20, span(3, 9)...)},
		{name: "another consumer re-reading",
			h: log10().poll(1, 0, 1, false, 10, span(0, 6)...).poll(2, 0, 1, false, 20, span(3, 9)...)},
		{name: "time order, not slice order, decides",
			h:    log10().poll(1, 0, 1, false, 20, span(0, 4)...).poll(1, 0, 1, false, 10, span(5, 9)...),
			want: map[Anomaly]int{PollBackwards: 1}},
		{name: "equal times keep slice order",
			h:    log10().poll(1, 0, 1, false, 10, span(5, 9)...).poll(1, 0, 1, false, 10, span(0, 4)...),
			want: map[Anomaly]int{PollBackwards: 1}},
	})
}

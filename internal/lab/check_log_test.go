package lab

import "testing"

func TestCheckLostUnseen(t *testing.T) {
	incomplete := func(h *History) { h.FinalReadComplete[0] = false }
	runCases(t, []checkCase{
		{name: "all read", h: log5()},
		{name: "absent from a complete final read is lost",
			h: log5().mutate(func(h *History) { dropFinal(h, "a2") }),
			// Its ack offset holds no record any more: the log under the ack was cut.
			want: map[Anomaly]int{Lost: 1, AckedTruncated: 1}},
		{name: "absent below the highest offset read is lost",
			h:    log5().mutate(incomplete).mutate(func(h *History) { dropFinal(h, "a2") }),
			want: map[Anomaly]int{Lost: 1, AckedTruncated: 1}},
		{name: "acked at the highest offset read, which holds another value, is lost",
			h:    log5().mutate(incomplete).send(0, "a5", 0, 5, OK, 4),
			want: map[Anomaly]int{Lost: 1, InconsistentOffsets: 1, AckedTruncated: 1}},
		{name: "absent beyond an incomplete final read is unseen",
			h:    log5().mutate(incomplete).mutate(func(h *History) { dropFinal(h, "a3"); dropFinal(h, "a4") }),
			want: map[Anomaly]int{Unseen: 2}},
		{name: "beyond an incomplete final read is unseen even when a consumer read past it",
			h: log5().mutate(incomplete).mutate(func(h *History) { dropFinal(h, "a3"); dropFinal(h, "a4") }).
				poll(1, 0, 1, false, 10, recs(0, "a0", "a1", "a2")...).
				poll(1, 0, 1, false, 20, rec(4, "a4")),
			// What is stored is what the final read found; it stopped at offset 2.
			want: map[Anomaly]int{Unseen: 2, PollSkip: 1}},
		{name: "read by a consumer, then gone from a complete final read, is lost",
			h: log5().mutate(func(h *History) { dropFinal(h, "a4") }).
				poll(1, 0, 1, false, 10, recs(0, vals("a", 5)...)...),
			want: map[Anomaly]int{Lost: 1, AckedTruncated: 1, TruncatedRead: 1}},
		{name: "no read of the partition at all is unseen",
			h:    newHist().send(0, "a0", 0, 0, OK, 0).send(0, "a1", 0, 1, OK, 1),
			want: map[Anomaly]int{Unseen: 2}},
		{name: "acks=0 without an offset, complete final read: lost",
			h:    newHist().send(0, "a0", 0, 0, OK, -1).send(0, "a1", 0, 1, OK, -1).final(0, true, rec(0, "a1")),
			want: map[Anomaly]int{Lost: 1}},
		{name: "acks=0 without an offset, incomplete final read: unseen",
			h:    newHist().send(0, "a0", 0, 0, OK, -1).send(0, "a1", 0, 1, OK, -1).final(0, false, rec(0, "a1")),
			want: map[Anomaly]int{Unseen: 1}},
		{name: "unknown send absent is not lost",
			h:    log5().send(0, "a5", 0, 5, Unknown, -1),
			want: nil},
		{name: "unknown send present is fine",
			h: log5().send(0, "a5", 0, 5, Unknown, -1).
				mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "a5")) }),
			want: nil},
		{name: "failed send absent is fine",
			h:    log5().send(0, "a5", 0, 5, Failed, -1),
			want: nil},
		{name: "acked send of an aborted transaction absent is fine",
			h:    log5().txnSend(1, 0, "t0", 0, 0, OK, 6).txn(1, 0, Failed, -1),
			want: nil},
		{name: "acked send of a transaction whose commit is unknown absent is fine",
			h:    log5().txnSend(1, 0, "t0", 0, 0, OK, 6).txn(1, 0, Unknown, 20),
			want: nil},
		{name: "acked send of a transaction that never ended absent is fine",
			h:    log5().txnSend(1, 0, "t0", 0, 0, OK, 6),
			want: nil},
		{name: "acked send of a committed transaction absent is lost",
			h:    log5().txnSend(1, 0, "t0", 0, 0, OK, 6).txn(1, 0, OK, 20),
			want: map[Anomaly]int{Lost: 1, AckedTruncated: 1}},
		{name: "lost in one partition, the other complete and fine",
			h: log5().send(1, "b0", 1, 0, OK, 0).send(1, "b1", 1, 1, OK, 1).
				final(1, true, rec(1, "b1")),
			want: map[Anomaly]int{Lost: 1, AckedTruncated: 1}},
	})
}

func TestCheckDuplicated(t *testing.T) {
	addFinal := func(rs ...Record) func(*History) {
		return func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rs...) }
	}
	runCases(t, []checkCase{
		{name: "each value once", h: log5()},
		{name: "a value at two offsets",
			h:    log5().mutate(addFinal(rec(5, "a2"))),
			want: map[Anomaly]int{Duplicated: 1}},
		{name: "a value at three offsets counts two copies",
			h:    log5().mutate(addFinal(rec(5, "a2"), rec(6, "a2"))),
			want: map[Anomaly]int{Duplicated: 2}},
		{name: "two values duplicated",
			h:    log5().mutate(addFinal(rec(5, "a2"), rec(6, "a3"))),
			want: map[Anomaly]int{Duplicated: 2}},
		{name: "a duplicate in consumer polls and the final read counts once per extra offset",
			h: log5().mutate(addFinal(rec(5, "a2"))).
				poll(1, 0, 1, false, 10, recs(0, "a0", "a1", "a2", "a3", "a4", "a2")...),
			want: map[Anomaly]int{Duplicated: 1}},
		{name: "a duplicate seen only by a consumer",
			h: log5().poll(1, 0, 1, false, 10, recs(4, "a4", "a1")...),
			// The final read ends before the copy: the log took it back.
			want: map[Anomaly]int{Duplicated: 1, TruncatedRead: 1}},
		{name: "re-reading the same offset is no duplicate",
			h: log5().poll(1, 0, 1, false, 10, recs(0, "a0", "a1")...).
				poll(1, 0, 2, false, 20, recs(0, vals("a", 5)...)...).
				poll(2, 0, 1, false, 30, recs(0, vals("a", 5)...)...),
			want: nil},
		{name: "an ack offset other than the read one is no duplicate",
			h: log5().mutate(func(h *History) { h.Sends[4].Offset = 7 }),
			// Offset 7 is past the end of the complete final read, so the ack was truncated.
			want: map[Anomaly]int{AckedTruncated: 1}},
		{name: "the same value in two partitions",
			h:    log5().final(1, true, rec(0, "a1")),
			want: map[Anomaly]int{Duplicated: 1}},
	})
}

func TestCheckInconsistentOffsets(t *testing.T) {
	runCases(t, []checkCase{
		{name: "reads and acks agree", h: log5().poll(1, 0, 1, false, 10, recs(0, vals("a", 5)...)...)},
		{name: "a consumer and the final read disagree",
			// a4 at offset 3 is also a duplicate (3 and 4).
			h:    log5().poll(1, 0, 1, false, 10, rec(3, "a4")),
			want: map[Anomaly]int{InconsistentOffsets: 1, Duplicated: 1, TruncatedRead: 1}},
		{name: "an ack and the final read disagree",
			h: newHist().send(0, "a0", 0, 0, OK, 0).send(0, "a1", 0, 1, OK, 0).
				final(0, true, rec(0, "a0"), rec(1, "a1")),
			want: map[Anomaly]int{InconsistentOffsets: 1, AckedTruncated: 1}},
		{name: "an ack at an offset nobody read is consistent",
			h: log5().send(0, "a5", 0, 5, OK, 9).final(0, true, rec(5, "a5")),
			// Consistent, but offset 9 is past the end of the complete final read.
			want: map[Anomaly]int{AckedTruncated: 1}},
		{name: "many disagreements on one offset count once",
			h: newHist().send(0, "a0", 0, 0, OK, 0).send(0, "b0", 0, 1, OK, 0).send(0, "c0", 0, 2, OK, 0).
				poll(1, 0, 1, false, 10, rec(0, "a0")).
				poll(2, 0, 1, false, 10, rec(0, "b0")).
				final(0, true, rec(0, "c0")),
			// The final read has c0 where a0 and b0 were read and acked: they are gone.
			want: map[Anomaly]int{InconsistentOffsets: 1, Lost: 2, AckedTruncated: 2, TruncatedRead: 2}},
		{name: "disagreements on two offsets count twice",
			h: log5().send(1, "b0", 1, 0, OK, 0).send(1, "b1", 1, 1, OK, 1).
				final(1, true, rec(0, "b1"), rec(1, "b0")),
			// The version order keeps what the final read saw: b1 before b0, each where the
			// other was acked.
			want: map[Anomaly]int{InconsistentOffsets: 2, Reordered: 1, AckedTruncated: 2}},
	})
}

func TestCheckReordered(t *testing.T) {
	// seqOffsets is producer 0 sending v0, v1, … in order, stored at the given offsets of
	// partition 0, all read by a complete final read.
	seqOffsets := func(offs ...int64) *hist {
		b := newHist()
		var rs []Record
		for i, off := range offs {
			v := vals("v", len(offs))[i]
			b.send(0, v, 0, i, OK, off)
			rs = append(rs, rec(off, v))
		}
		return b.final(0, true, rs...)
	}
	runCases(t, []checkCase{
		{name: "in order", h: seqOffsets(0, 1, 2, 3)},
		{name: "in order with gaps", h: seqOffsets(0, 3, 4, 10)},
		{name: "one later value below an earlier one", h: seqOffsets(0, 2, 1, 3),
			want: map[Anomaly]int{Reordered: 1}},
		{name: "every value below the first", h: seqOffsets(5, 3, 4, 2),
			want: map[Anomaly]int{Reordered: 3}},
		{name: "a retried batch landing after later ones", h: seqOffsets(4, 5, 0, 1, 2, 3, 6),
			want: map[Anomaly]int{Reordered: 4}},
		{name: "sends recorded out of seq order but stored in seq order",
			h: newHist().send(0, "v1", 0, 1, OK, 1).send(0, "v0", 0, 0, OK, 0).
				final(0, true, rec(0, "v0"), rec(1, "v1"))},
		{name: "two producers interleaved, each in order",
			h: newHist().send(0, "a0", 0, 0, OK, 1).send(1, "b0", 0, 0, OK, 0).
				send(0, "a1", 0, 1, OK, 2).send(1, "b1", 0, 1, OK, 3).
				final(0, true, recs(0, "b0", "a0", "a1", "b1")...)},
		{name: "one producer, partitions ordered independently",
			h: newHist().send(0, "a0", 0, 0, OK, 5).send(0, "a1", 1, 1, OK, 0).send(0, "a2", 0, 2, OK, 6).
				final(0, true, rec(5, "a0"), rec(6, "a2")).final(1, true, rec(0, "a1"))},
		{name: "a restarted producer is another producer",
			h: newHist().send(0, "a0", 0, 0, OK, 1).send(1, "b0", 0, 0, OK, 0).
				final(0, true, rec(0, "b0"), rec(1, "a0"))},
		{name: "values not stored are ignored",
			h: newHist().send(0, "v0", 0, 0, OK, 0).send(0, "v1", 0, 1, Unknown, -1).send(0, "v2", 0, 2, OK, 1).
				final(0, true, rec(0, "v0"), rec(1, "v2"))},
		{name: "the order comes from the acks when nothing was read",
			h:    newHist().send(0, "v0", 0, 0, OK, 3).send(0, "v1", 0, 1, OK, 2),
			want: map[Anomaly]int{Reordered: 1, Unseen: 2}},
		{name: "a duplicate is ordered by its first offset",
			// v1 at 1 and again at 3 (after v2 at 2): duplicated but not reordered.
			h:    seqOffsets(0, 1, 2).mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(3, "v1")) }),
			want: map[Anomaly]int{Duplicated: 1}},
	})
}

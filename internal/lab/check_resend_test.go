package lab

import "testing"

// The producing application sends a value again after an aborted transaction or a crash
// of its incarnation, so a value may have several Sends.
func TestCheckResentValues(t *testing.T) {
	// retried is producer 0's transaction 0 writing x (offset 0) and y (offset 1), aborted
	// (marker at 2), then transaction 1 writing them again at 3 and 4, committed at 50ms
	// (marker at 5); the final read has the committed copies.
	retried := func() *hist {
		return newHist().
			txnSend(0, 0, "x", 0, 0, OK, 0).txnSend(0, 0, "y", 0, 1, OK, 1).txn(0, 0, Failed, -1).
			txnSend(0, 1, "x", 0, 2, OK, 3).txnSend(0, 1, "y", 0, 3, OK, 4).txn(0, 1, OK, 50).
			final(0, true, rec(3, "x"), rec(4, "y"))
	}
	runCases(t, []checkCase{
		{name: "resent after an abort and read once",
			h: retried().poll(1, 0, 1, true, 60, rec(3, "x"), rec(4, "y")).processed(1, "x", "y")},
		{name: "the aborted copy read by a read_committed consumer",
			// x read at 0 and 3 is also duplicated.
			h:    retried().poll(1, 0, 1, true, 60, rec(0, "x"), rec(3, "x"), rec(4, "y")),
			want: map[Anomaly]int{AbortedRead: 1, Duplicated: 1}},
		{name: "the aborted copy read by a read_uncommitted consumer",
			h:    retried().poll(1, 0, 1, false, 60, recs(0, "x", "y")...).poll(1, 0, 1, false, 70, recs(3, "x", "y")...),
			want: map[Anomaly]int{Duplicated: 2}},
		{name: "the committed copy read before its own commit request",
			h:    retried().poll(1, 0, 1, true, 40, rec(3, "x")),
			want: map[Anomaly]int{PrecommittedRead: 1}},
		{name: "resent and lost counts once",
			h:    retried().mutate(func(h *History) { dropFinal(h, "x") }),
			want: map[Anomaly]int{Lost: 1, AckedTruncated: 1}},
		{name: "resent and lost, unseen beyond the reads",
			h: retried().mutate(func(h *History) {
				h.FinalReadComplete[0] = false
				dropFinal(h, "y")
			}),
			want: map[Anomaly]int{Unseen: 1}},
		{name: "resent and aborted twice, absent",
			h: newHist().txnSend(0, 0, "x", 0, 0, OK, 0).txn(0, 0, Failed, -1).
				txnSend(0, 1, "x", 0, 1, OK, 2).txn(0, 1, Failed, -1).final(0, true)},
		{name: "an aborted copy is no skip for a read_committed consumer",
			// w at 0 committed (marker 1), x at 2 aborted (marker 3), x again at 4 committed.
			h: newHist().txnSend(0, 0, "w", 0, 0, OK, 0).txn(0, 0, OK, 10).
				txnSend(0, 1, "x", 0, 1, OK, 2).txn(0, 1, Failed, -1).
				txnSend(0, 2, "x", 0, 2, OK, 4).txn(0, 2, OK, 30).
				final(0, true, rec(0, "w"), rec(4, "x")).
				poll(2, 0, 1, false, 40, rec(0, "w"), rec(2, "x"), rec(4, "x")).
				poll(1, 0, 1, true, 40, rec(0, "w"), rec(4, "x")),
			want: map[Anomaly]int{Duplicated: 1}},
		{name: "a committed copy skipped by a read_committed consumer",
			h: newHist().txnSend(0, 0, "w", 0, 0, OK, 0).txn(0, 0, OK, 10).
				txnSend(0, 1, "x", 0, 1, OK, 2).txn(0, 1, Failed, -1).
				txnSend(0, 2, "x", 0, 2, OK, 4).txn(0, 2, OK, 30).
				txnSend(0, 3, "y", 0, 3, OK, 6).txn(0, 3, OK, 50).
				final(0, true, rec(0, "w"), rec(4, "x"), rec(6, "y")).
				poll(1, 0, 1, true, 60, rec(0, "w"), rec(6, "y")),
			want: map[Anomaly]int{PollSkip: 1}},
		{name: "resent by a new incarnation after a crash, written once",
			h: newHist().send(0, "a0", 0, 0, OK, 0).send(0, "a1", 0, 1, Unknown, -1).
				send(1, "a1", 0, 0, OK, 1).send(1, "a2", 0, 1, OK, 2).
				final(0, true, recs(0, "a0", "a1", "a2")...)},
		{name: "resent by a new incarnation after a crash, written twice",
			h: newHist().send(0, "a0", 0, 0, OK, 0).send(0, "a1", 0, 1, Unknown, -1).
				send(1, "a1", 0, 0, OK, 2).send(1, "a2", 0, 1, OK, 3).
				final(0, true, recs(0, "a0", "a1", "a1", "a2")...),
			want: map[Anomaly]int{Duplicated: 1}},
		{name: "resent by the same producer, both acked, in order",
			// Seq 1 acked at 1, seq 3 at 3: each send is where its ack says.
			h: newHist().send(0, "a0", 0, 0, OK, 0).send(0, "a1", 0, 1, OK, 1).
				send(0, "a2", 0, 2, OK, 2).send(0, "a1", 0, 3, OK, 3).
				final(0, true, recs(0, "a0", "a1", "a2", "a1")...),
			want: map[Anomaly]int{Duplicated: 1}},
		{name: "resent by the same producer, the later copy acked below an earlier value",
			h: newHist().send(0, "a0", 0, 0, OK, 1).send(0, "a1", 0, 1, Unknown, -1).
				send(0, "a2", 0, 2, OK, 2).send(0, "a1", 0, 3, OK, 0).
				final(0, true, recs(0, "a1", "a0", "a2")...),
			want: map[Anomaly]int{Reordered: 1}},
		{name: "a failed send resent and acked",
			h: newHist().send(0, "a0", 0, 0, Failed, -1).send(1, "a0", 0, 0, OK, 0).
				final(0, true, rec(0, "a0")).poll(1, 0, 1, false, 10, rec(0, "a0")).processed(1, "a0")},
	})
}

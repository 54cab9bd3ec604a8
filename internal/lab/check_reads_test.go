package lab

import (
	"strings"
	"testing"
)

func TestCheckAbortedRead(t *testing.T) {
	// aborted is log5 plus transaction 0 of producer 1 with t0 (offset 5) and t1 (offset 6)
	// acked and then aborted (marker at 7), and a5 at 8 after it.
	aborted := func() *hist {
		return log5().txnSend(1, 0, "t0", 0, 0, OK, 5).txnSend(1, 0, "t1", 0, 1, OK, 6).
			txn(1, 0, Failed, -1).send(0, "a5", 0, 5, OK, 8).final(0, true, rec(8, "a5"))
	}
	runCases(t, []checkCase{
		{name: "nothing aborted read", h: aborted()},
		{name: "a failed send read by the final read",
			h: log5().send(0, "a5", 0, 5, Failed, -1).
				mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "a5")) }),
			want: map[Anomaly]int{AbortedRead: 1}},
		{name: "a failed send read by a consumer and the final read counts once",
			h: log5().send(0, "a5", 0, 5, Failed, -1).
				mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "a5")) }).
				poll(1, 0, 1, false, 10, recs(0, "a0", "a1", "a2", "a3", "a4", "a5")...).
				poll(2, 0, 1, true, 10, rec(5, "a5")),
			want: map[Anomaly]int{AbortedRead: 1}},
		// The next three consumers read past the end of the complete final read: the log
		// took those records back as well.
		{name: "a failed send read by a read_uncommitted consumer",
			h:    log5().send(0, "a5", 0, 5, Failed, -1).poll(1, 0, 1, false, 10, rec(5, "a5")),
			want: map[Anomaly]int{AbortedRead: 1, TruncatedRead: 1}},
		{name: "two failed sends read",
			h: log5().send(0, "a5", 0, 5, Failed, -1).send(0, "a6", 0, 6, Failed, -1).
				poll(1, 0, 1, false, 10, recs(5, "a5", "a6")...),
			want: map[Anomaly]int{AbortedRead: 2, TruncatedRead: 2}},
		{name: "a value never sent",
			h:    log5().poll(1, 0, 1, false, 10, rec(4, "a4"), rec(5, "garbage")),
			want: map[Anomaly]int{AbortedRead: 1, TruncatedRead: 1}},
		{name: "an aborted transaction read by a read_committed consumer",
			h:    aborted().poll(1, 0, 1, true, 10, rec(4, "a4"), rec(5, "t0"), rec(6, "t1"), rec(8, "a5")),
			want: map[Anomaly]int{AbortedRead: 2}},
		{name: "an aborted transaction read by the read_committed final read",
			h:    aborted().final(0, true, rec(5, "t0")),
			want: map[Anomaly]int{AbortedRead: 1}},
		{name: "an aborted transaction read by a read_uncommitted consumer is fine",
			h:    aborted().poll(1, 0, 1, false, 10, rec(4, "a4"), rec(5, "t0"), rec(6, "t1"), rec(8, "a5")),
			want: nil},
		{name: "a failed send of a transaction read by a read_committed consumer",
			h: log5().txnSend(1, 0, "t0", 0, 0, Failed, -1).txn(1, 0, Failed, -1).
				poll(1, 0, 1, true, 10, rec(5, "t0")),
			want: map[Anomaly]int{AbortedRead: 1}},
		{name: "an unknown send read is fine",
			h: log5().send(0, "a5", 0, 5, Unknown, -1).
				mutate(func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "a5")) }).
				poll(1, 0, 1, false, 10, rec(5, "a5")),
			want: nil},
		{name: "a transaction whose commit is unknown read by the final read is fine",
			h:    log5().txnSend(1, 0, "t0", 0, 0, OK, 5).txn(1, 0, Unknown, 10).final(0, true, rec(5, "t0")),
			want: nil},
	})
}

func TestCheckAbortedReadExamples(t *testing.T) {
	h := log5().send(0, "a5", 0, 5, Failed, -1).mutate(func(h *History) { h.Sends[5].Err = "MESSAGE_TOO_LARGE" }).
		txnSend(1, 0, "t0", 0, 0, OK, 6).txn(1, 0, Failed, -1).
		poll(1, 0, 1, true, 10, recs(5, "a5", "t0")...)
	r := Check(h.history())
	want := []string{
		`value "a5", whose send failed (MESSAGE_TOO_LARGE), read at offset 5 of partition 0 by consumer 1`,
		`value "t0" of transaction 0 of producer 1, which aborted, read at offset 6 of partition 0 by consumer 1 (read_committed)`,
	}
	if got := r.Examples[AbortedRead]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("examples\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheckPrecommittedRead(t *testing.T) {
	// txn0 is transaction 0 of producer 0 writing t0, t1 at offsets 0 and 1 (marker at 2),
	// with its commit requested at 50ms, read by the final read.
	txn0 := func(o Outcome, commitMs int) *hist {
		return newHist().txnSend(0, 0, "t0", 0, 0, OK, 0).txnSend(0, 0, "t1", 0, 1, OK, 1).
			txn(0, 0, o, commitMs).final(0, true, recs(0, "t0", "t1")...)
	}
	runCases(t, []checkCase{
		{name: "read after the commit request", h: txn0(OK, 50).poll(1, 0, 1, true, 60, recs(0, "t0", "t1")...)},
		{name: "read at the commit request", h: txn0(OK, 50).poll(1, 0, 1, true, 50, recs(0, "t0", "t1")...)},
		{name: "read before the commit request",
			h:    txn0(OK, 50).poll(1, 0, 1, true, 40, recs(0, "t0", "t1")...),
			want: map[Anomaly]int{PrecommittedRead: 2}},
		{name: "read twice before the commit request counts once",
			h: txn0(OK, 50).poll(1, 0, 1, true, 40, rec(0, "t0")).
				poll(2, 0, 1, true, 45, rec(0, "t0")).poll(2, 0, 1, true, 60, rec(1, "t1")),
			want: map[Anomaly]int{PrecommittedRead: 1}},
		{name: "read before the request of a commit whose outcome is unknown",
			h:    txn0(Unknown, 50).poll(1, 0, 1, true, 40, recs(0, "t0", "t1")...),
			want: map[Anomaly]int{PrecommittedRead: 2}},
		{name: "a commit with no recorded request",
			h:    txn0(OK, -1).poll(1, 0, 1, true, 40, rec(0, "t0")),
			want: map[Anomaly]int{PrecommittedRead: 1}},
		{name: "read_uncommitted consumers see open transactions",
			h: txn0(OK, 50).poll(1, 0, 1, false, 40, recs(0, "t0", "t1")...)},
		{name: "a transaction that never ended read by a read_committed consumer",
			h: newHist().txnSend(0, 0, "t0", 0, 0, OK, 0).txnSend(0, 0, "t1", 0, 1, OK, 1).
				final(0, true).poll(1, 0, 1, true, 40, recs(0, "t0", "t1")...),
			want: map[Anomaly]int{PrecommittedRead: 2}},
		{name: "a transaction that never ended read by a read_uncommitted consumer",
			h: newHist().txnSend(0, 0, "t0", 0, 0, OK, 0).final(0, true).
				poll(1, 0, 1, false, 40, rec(0, "t0"))},
		{name: "a transaction that never ended in the final read",
			// Its producer died while committing: the final read is not checked for it.
			h: newHist().txnSend(0, 0, "t0", 0, 0, OK, 0).final(0, true, rec(0, "t0"))},
		{name: "an aborted transaction is an aborted read, not a precommitted one",
			h: newHist().txnSend(0, 0, "t0", 0, 0, OK, 0).txn(0, 0, Failed, -1).final(0, true).
				poll(1, 0, 1, true, 40, rec(0, "t0")),
			want: map[Anomaly]int{AbortedRead: 1}},
		{name: "non-transactional values are never precommitted",
			h: log5().poll(1, 0, 1, true, 0, recs(0, vals("a", 5)...)...)},
		{name: "each transaction has its own commit time",
			h: txn0(OK, 50).txnSend(0, 1, "t2", 0, 2, OK, 3).txn(0, 1, OK, 100).final(0, true, rec(3, "t2")).
				poll(1, 0, 1, true, 60, rec(0, "t0"), rec(1, "t1"), rec(3, "t2")),
			want: map[Anomaly]int{PrecommittedRead: 1}},
		{name: "transactions are per producer",
			h: txn0(OK, 50).txnSend(1, 0, "u0", 0, 0, OK, 3).txn(1, 0, OK, 100).final(0, true, rec(3, "u0")).
				poll(1, 0, 1, true, 60, rec(0, "t0"), rec(1, "t1"), rec(3, "u0")),
			want: map[Anomaly]int{PrecommittedRead: 1}},
	})
}

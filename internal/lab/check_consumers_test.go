package lab

import "testing"

func TestCheckProcessing(t *testing.T) {
	all := vals("a", 5)
	addFinal := func(rs ...Record) func(*History) {
		return func(h *History) { h.Polls[0].Records = append(h.Polls[0].Records, rs...) }
	}
	runCases(t, []checkCase{
		{name: "consumers did not run", h: log5()},
		{name: "consumers ran and processed nothing",
			h:    log5().mutate(func(h *History) { h.ConsumersRan = true }),
			want: map[Anomaly]int{Unprocessed: 5}},
		{name: "each once", h: log5().processed(1, all...)},
		{name: "each once, by different consumers", h: log5().processed(1, all[:2]...).processed(2, all[2:]...)},
		{name: "one unprocessed",
			h:    log5().processed(1, "a0", "a1", "a3", "a4"),
			want: map[Anomaly]int{Unprocessed: 1}},
		{name: "one twice",
			h:    log5().processed(1, all...).processed(2, "a3"),
			want: map[Anomaly]int{Reprocessed: 1}},
		{name: "one three times, another twice",
			h:    log5().processed(1, all...).processed(2, "a3", "a3", "a1"),
			want: map[Anomaly]int{Reprocessed: 3}},
		{name: "a value not in the final read processed twice",
			h: log5().send(0, "a5", 0, 5, OK, 5).processed(1, all...).processed(1, "a5", "a5").
				mutate(func(h *History) { h.FinalReadComplete[0] = false }),
			want: map[Anomaly]int{Reprocessed: 1, Unseen: 1}},
		{name: "a value processed but absent from the final read is not expected",
			h: log5().send(0, "a5", 0, 5, Unknown, -1).processed(1, all...).processed(1, "a5")},
		{name: "an aborted transaction's value in a read_uncommitted final read is not expected",
			h: log5().txnSend(1, 0, "t0", 0, 0, OK, 5).txn(1, 0, Failed, -1).processed(1, all...).
				mutate(func(h *History) {
					h.Polls[0].ReadCommitted = false
					h.Polls[0].Records = append(h.Polls[0].Records, rec(5, "t0"))
				})},
		{name: "a failed send in the final read is not expected",
			h:    log5().send(0, "a5", 0, 5, Failed, -1).mutate(addFinal(rec(5, "a5"))).processed(1, all...),
			want: map[Anomaly]int{AbortedRead: 1}},
		{name: "a value never sent in the final read is not expected",
			h:    log5().mutate(addFinal(rec(5, "zz"))).processed(1, all...),
			want: map[Anomaly]int{AbortedRead: 1}},
		{name: "an unknown send in the final read is expected",
			h:    log5().send(0, "a5", 0, 5, Unknown, -1).mutate(addFinal(rec(5, "a5"))).processed(1, all...),
			want: map[Anomaly]int{Unprocessed: 1}},
		{name: "a duplicated value processed once per copy",
			h:    log5().mutate(addFinal(rec(5, "a2"))).processed(1, all...).processed(1, "a2"),
			want: map[Anomaly]int{Duplicated: 1, Reprocessed: 1}},
		{name: "processing not counted when consumers did not run",
			h: log5().mutate(func(h *History) {
				h.Processed = append(h.Processed, Processed{Consumer: 1, Value: "a0"}, Processed{Consumer: 1, Value: "a0"})
			})},
	})
}

package console

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// The leader of partition 0 cut off from its followers while producers still reach it,
// through the simulator's API: under acks=1 it acknowledges values alone, a new leader is
// elected without them, and once healed it truncates them: acked but lost. Under
// acks=all the same values wait, are retried on the new leader, and nothing is lost.
func TestSimulatorLeaderIsolation(t *testing.T) {
	_, srv := startConsole(t, Config{})
	s := openStream(t, srv.URL)
	forAcks(t, s, func(t *testing.T, acks string) {
		tally, alone, truncated := isolateLeaderScenario(t, srv.URL, s, acks)
		t.Logf("acks=%s: %+v; sent to the isolated leader %v, truncated %v", acks, tally, alone, truncated)
		if !slices.Equal(truncated, alone) {
			t.Errorf("the old leader truncated %v, want the values sent while it was cut off, %v", truncated, alone)
		}
		if acks == "1" {
			// Acked by the isolated leader alone, every one of them; those before were
			// on every replica.
			if tally.Lost != len(alone) || tally.AckedTruncated != len(alone) {
				t.Errorf("acks=1: %d acked but lost, %d acked-truncated; want %d each", tally.Lost, tally.AckedTruncated, len(alone))
			}
			return
		}
		if tally.Lost != 0 || tally.AckedTruncated != 0 {
			t.Errorf("acks=all: %d acked but lost, %d acked-truncated; want 0", tally.Lost, tally.AckedTruncated)
		}
		if tally.Acked != tally.Sent {
			t.Errorf("acks=all: %d of %d values acked; the retries on the new leader should have delivered all", tally.Acked, tally.Sent)
		}
	})
	// On a whole cluster, the faults that undo others have nothing to act on: refused,
	// with the reason, rather than reported as done.
	v := awaitView(t, srv.URL, 20*time.Second, "a running leader", func(v ReplicaView) bool { return v.Leader > 0 })
	for _, f := range []FaultRequest{{Fault: "heal"}, {Fault: "restart-node"}, {Fault: "restart-node", Node: v.Leader},
		{Fault: "slow-follower", Node: v.Leader}} {
		var answer map[string]string
		post(t, srv.URL+"/api/sim/fault", f, &answer, http.StatusBadRequest)
		if answer["error"] == "" {
			t.Errorf("%+v refused without a reason", f)
		}
	}
}

// isolateLeaderScenario runs one leader isolation: 5 values, on every replica before the
// leader is cut off, 5 more, a new leader elected, the old one healed. It returns the
// tally once the run is quiet after the old leader's truncation, the values sent while
// the leader was cut off, and those the truncation took away.
func isolateLeaderScenario(t *testing.T, base string, s *stream, acks string) (tally Tally, alone, truncated []string) {
	t.Helper()
	const values = 5
	var st SimState
	post(t, base+"/api/sim/reset", SimSettings{Acks: acks, Retries: true, Consumer: "commit-after-process",
		Partitions: 1, ReplicationFactor: 3, MinISR: 2}, &st, http.StatusOK)
	session := st.Session
	s.until(20*time.Second, "the first view of the run's partition", func(e Event) bool {
		return e.Type == "cluster" && e.Session == session
	})
	var v ReplicaView
	get(t, base+"/api/sim/replicas", &v, http.StatusOK)
	old := v.Leader
	if v.Session != session || old < 1 || len(v.ISR) != 3 {
		t.Fatalf("the run's partition before the fault: %+v", v)
	}

	post(t, base+"/api/sim/send", SendRequest{Count: values}, nil, http.StatusOK)
	s.until(20*time.Second, "the first values acked", func(e Event) bool {
		return e.Type == "tally" && e.Session == session && e.Tally.Acked == values
	})
	awaitView(t, base, 20*time.Second, "the first values on every replica", func(v ReplicaView) bool {
		return !slices.ContainsFunc(v.Nodes, func(n ReplicaNode) bool { return n.LogEnd < values })
	})
	post(t, base+"/api/sim/fault", FaultRequest{Fault: "isolate-leader"}, nil, http.StatusOK)
	get(t, base+"/api/sim/replicas", &v, http.StatusOK)
	if n := v.node(old); !n.Isolated {
		t.Fatalf("node %d not shown isolated after isolate-leader: %+v", old, n)
	}
	post(t, base+"/api/sim/send", SendRequest{Count: values}, nil, http.StatusOK)
	events := s.until(30*time.Second, "a new leader", func(e Event) bool {
		return e.Type == "election" && e.Session == session && e.Node > 0 && e.Node != old
	})
	for _, e := range events {
		if e.Type == "send" && e.Session == session {
			alone = append(alone, e.Value)
		}
	}
	post(t, base+"/api/sim/fault", FaultRequest{Fault: "heal"}, nil, http.StatusOK)
	events = s.until(30*time.Second, "the old leader's truncation", func(e Event) bool {
		return e.Type == "truncated" && e.Session == session && e.Node == old
	})
	truncated = events[len(events)-1].Values
	s.until(60*time.Second, "a quiet tally of every value", func(e Event) bool {
		if e.Type != "tally" || e.Session != session {
			return false
		}
		tally = *e.Tally
		return tally.Quiet && tally.Sent == 2*values && tally.Acked+tally.Unknown+tally.Failed == 2*values
	})
	get(t, base+"/api/sim/replicas", &v, http.StatusOK)
	if v.Leader == old || v.node(old).Isolated || !slices.Contains(v.Replicas, old) {
		t.Errorf("after the heal: leader %d (the old one was %d), node %d %+v", v.Leader, old, old, v.node(old))
	}
	return tally, alone, truncated
}

// awaitView polls the replicas' view until cond accepts it, failing the test after
// timeout.
func awaitView(t *testing.T, base string, timeout time.Duration, what string, cond func(ReplicaView) bool) ReplicaView {
	t.Helper()
	return pollUntil(t, timeout, what, func() (v ReplicaView) {
		get(t, base+"/api/sim/replicas", &v, http.StatusOK)
		return v
	}, cond)
}

// A follower held back: under acks=all each value waits for it until the leader drops it
// from the ISR, so that the values are acknowledged only once the view shows it out;
// under acks=1 they are acknowledged before it leaves.
func TestSimulatorSlowFollower(t *testing.T) {
	_, srv := startConsole(t, Config{})
	s := openStream(t, srv.URL)
	forAcks(t, s, func(t *testing.T, acks string) {
		const values = 3
		var st SimState
		post(t, srv.URL+"/api/sim/reset", SimSettings{Acks: acks, Retries: true, Consumer: "commit-after-process",
			Partitions: 1, ReplicationFactor: 3, MinISR: 2}, &st, http.StatusOK)
		awaitView(t, srv.URL, 20*time.Second, "the run's partition led, every replica in sync", func(v ReplicaView) bool {
			return v.Session == st.Session && v.Leader > 0 && len(v.ISR) == 3
		})
		post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "slow-follower"}, nil, http.StatusOK)
		var v ReplicaView
		get(t, srv.URL+"/api/sim/replicas", &v, http.StatusOK)
		i := slices.IndexFunc(v.Nodes, func(n ReplicaNode) bool { return n.Slow })
		if i < 0 || v.Nodes[i].ID == v.Leader {
			t.Fatalf("no follower shown slowed: %+v", v)
		}
		slow := v.Nodes[i].ID
		post(t, srv.URL+"/api/sim/send", SendRequest{Count: values}, nil, http.StatusOK)
		events := s.until(30*time.Second, "every value acked", func(e Event) bool {
			return e.Type == "tally" && e.Session == st.Session && e.Tally.Acked == values
		})
		// The ISR only shrinks once the follower lagged for replica.lag.time.max.ms
		// (1.5 s): an acks=1 ack comes long before, an acks=all one cannot.
		shrunk := slices.ContainsFunc(events, func(e Event) bool { return e.Type == "isr" && e.Session == st.Session })
		get(t, srv.URL+"/api/sim/replicas", &v, http.StatusOK)
		out := !slices.Contains(v.ISR, slow)
		if acks == "all" && !out {
			t.Errorf("acks=all: the values were acked with node %d still in the ISR %v", slow, v.ISR)
		}
		if acks == "1" && shrunk {
			t.Errorf("acks=1: the values were acked only after node %d left the ISR", slow)
		}
		post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "heal", Node: slow}, nil, http.StatusOK)
	})
}

// forAcks runs fn as a subtest under acks=1, then acks=all, on one stream that fails the
// subtest running.
func forAcks(t *testing.T, s *stream, fn func(t *testing.T, acks string)) {
	for _, acks := range []string{"1", "all"} {
		t.Run("acks="+acks, func(t *testing.T) {
			s.t = t
			fn(t, acks)
		})
	}
	s.t = t
}

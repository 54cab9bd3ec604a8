package console

import (
	"net/http"
	"testing"
	"time"
)

// A lost ack, seen through the event stream: without idempotence the producer's retry
// stores the values again; with it, the broker recognises the retry. On one partition
// every value travels in the request whose answer is dropped; on three, led by three
// nodes, only those of one request do.
func TestSimulatorLostAckOverEvents(t *testing.T) {
	_, srv := startConsole(t, Config{})
	s := openStream(t, srv.URL)
	run := func(settings SimSettings, values int) (events []Event, tally Tally) {
		t.Helper()
		var st SimState
		post(t, srv.URL+"/api/sim/reset", settings, &st, http.StatusOK)
		session := st.Session
		s.until(20*time.Second, "reset", func(e Event) bool { return e.Type == "reset" && e.Session == session })
		post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "drop-ack"}, &st, http.StatusOK)
		if len(st.Armed) != 1 || st.Armed[0] != "drop-ack" {
			t.Fatalf("armed faults %v, want [drop-ack]", st.Armed)
		}
		post(t, srv.URL+"/api/sim/send", SendRequest{Count: values}, nil, http.StatusOK)
		events = s.until(20*time.Second, "settled tally", func(e Event) bool {
			if e.Type != "tally" || e.Session != session {
				return false
			}
			tally = *e.Tally
			return tally.Sent == values && tally.Acked == values && tally.Consumed == values
		})
		hit := count(events, "ack-lost")
		if hit < 1 || hit > values || (settings.Partitions == 1 && hit != values) {
			t.Errorf("%d ack-lost events, want one per value of the request hit (all %d on one partition)", hit, values)
		}
		if n := count(events, "retry"); n < hit {
			t.Errorf("%d retry events, want at least %d", n, hit)
		}
		if tally.AcksLost != 1 || tally.Retries != hit {
			t.Errorf("tally says %d acks lost and %d values retried, want 1 and %d", tally.AcksLost, tally.Retries, hit)
		}
		return events, tally
	}

	events, tally := run(SimSettings{Acks: "all", Retries: true, Consumer: "commit-after-process", Partitions: 1}, 5)
	if tally.Duplicated != 5 || count(events, "stored") != 10 {
		t.Errorf("without idempotence: %d duplicated, %d stored events; want 5 and 10 (each value twice)", tally.Duplicated, count(events, "stored"))
	}

	events, tally = run(SimSettings{Idempotent: true, Consumer: "commit-after-process", Partitions: 3}, 6)
	if tally.Duplicated != 0 || tally.Stored != 6 {
		t.Errorf("with idempotence: %d duplicated, %d stored; want 0 and 6", tally.Duplicated, tally.Stored)
	}
	if n, hit := count(events, "deduped"), count(events, "ack-lost"); n != hit {
		t.Errorf("%d deduped events, want one per value whose ack was lost (%d)", n, hit)
	}
}

// Settings are normalised as a Kafka client would: transactions imply idempotence,
// which implies acks=all and retries; impossible values are refused.
func TestSimSettingsNormalize(t *testing.T) {
	s, err := SimSettings{Acks: "0", Transactional: true, Consumer: "transactional"}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Idempotent || s.Acks != "all" || !s.Retries || s.Partitions != 1 || s.ReplicationFactor != 3 || s.MinISR != 2 {
		t.Errorf("normalised to %+v", s)
	}
	if s, err := (SimSettings{Acks: "1", ReplicationFactor: 1}).normalize(); err != nil || s.MinISR != 1 {
		t.Errorf("a single replica normalised to %+v, %v; want min.insync.replicas 1", s, err)
	}
	for _, bad := range []SimSettings{{Acks: "2"}, {Acks: "1", Consumer: "sometimes"}, {Acks: "1", Partitions: 9},
		{Acks: "1", ReplicationFactor: 4}, {Acks: "1", ReplicationFactor: -1}, {Acks: "1", ReplicationFactor: 2, MinISR: 3},
		{Acks: "1", MinISR: -2}} {
		if _, err := bad.normalize(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// The API refuses what a cross-site form could send, and bad requests.
func TestSimulatorRefusesBadRequests(t *testing.T) {
	_, srv := startConsole(t, Config{})
	resp, err := http.Post(srv.URL+"/api/sim/send", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain POST: status %d, want 415", resp.StatusCode)
	}
	post(t, srv.URL+"/api/sim/send", SendRequest{Count: 0}, nil, http.StatusBadRequest)
	post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "meteor"}, nil, http.StatusBadRequest)
	post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "crash-broker"}, nil, http.StatusBadRequest) // a single broker's, gone
	post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "kill-leader", Node: 2}, nil, http.StatusBadRequest)
	post(t, srv.URL+"/api/sim/fault", FaultRequest{Fault: "restart-node", Node: 4}, nil, http.StatusBadRequest)
	post(t, srv.URL+"/api/sim/reset", SimSettings{Acks: "all", ReplicationFactor: 2, MinISR: 3}, nil, http.StatusBadRequest)
	post(t, srv.URL+"/api/sim/send", SendRequest{Count: 1, Settings: &SimSettings{Acks: "1", ReplicationFactor: 5}}, nil, http.StatusBadRequest)
	post(t, srv.URL+"/api/sim/reset", map[string]any{"acks": "all", "colour": "blue"}, nil, http.StatusBadRequest)
}

package group

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Unload answers parked requests with NOT_COORDINATOR; Load brings back the
// group and its offsets from the store, on this coordinator and on a new
// one over the same store (a broker restart).
func TestReloadRestoresGroupAndOffsets(t *testing.T) {
	h := newHarness(t, nil)
	const g = "reload"
	p := h.c.PartitionFor(g)
	members := h.formGroup(g, 2)
	gen := members[0].generation
	if err := h.commit(g, members[0].id, gen, map[string]map[int32]int64{"t1": {0: 42, 3: 7}}); err != nil {
		t.Fatal(err)
	}
	h.expectCode(h.heartbeat(g, members[0].id, gen, ""), nil)

	leader, _ := h.leader(g, members)
	parked := h.joinAsync(g, joinOpts{memberID: leader.id}) // a leader's rejoin parks
	h.waitFor("rejoin parked", func() bool { return h.parkedJoins(g) == 1 })
	h.c.Unload(p)
	h.expectCode(h.receive(parked).ErrorCode, kerr.NotCoordinator)
	h.expectCode(h.heartbeat(g, members[0].id, gen, ""), kerr.NotCoordinator)

	check := func(h *harness) {
		t.Helper()
		if got := h.fetch(g, "t1", 0, 3); got["t1"][0] != 42 || got["t1"][3] != 7 {
			t.Fatalf("offsets after reload %v", got)
		}
		if s := h.state(g); s != stateStable {
			t.Fatalf("state after reload %s, want Stable", s)
		}
		d := h.describe(5, g).Groups[0]
		if d.Protocol != "range" || len(d.Members) != 2 || string(d.Members[0].MemberAssignment) != "a-"+d.Members[0].MemberID || d.Members[0].ClientHost != "/127.0.0.1" {
			t.Fatalf("described after reload %+v", d)
		}
		for _, m := range members {
			h.expectCode(h.heartbeat(g, m.id, gen, ""), nil)
		}
	}
	if err := h.c.Load(p); err != nil {
		t.Fatal(err)
	}
	check(h)

	restarted := &harness{t: t, store: h.store, clock: h.clock}
	restarted.c = New(Config{NumPartitions: testPartitions, TickInterval: time.Hour, Now: h.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, h.store)
	defer restarted.c.Close()
	if err := restarted.c.Load(p); err != nil {
		t.Fatal(err)
	}
	check(restarted)

	// Members of a reloaded group that never come back expire.
	restarted.advance(11 * time.Second)
	if s := restarted.state(g); s != stateEmpty {
		t.Fatalf("state %s once reloaded members expired, want Empty", s)
	}
	if got := restarted.fetch(g, "t1", 0); got["t1"][0] != 42 {
		t.Fatalf("offsets lost: %v", got)
	}
}

// While a partition replays, its groups answer COORDINATOR_LOAD_IN_PROGRESS;
// an Unload during the replay wins.
func TestLoadInProgress(t *testing.T) {
	h := newHarness(t, nil)
	const g = "loading"
	p := h.c.PartitionFor(g)
	h.c.Unload(p)

	gate := make(chan struct{})
	h.store.mu.Lock()
	h.store.replayGate = gate
	h.store.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- h.c.Load(p) }()
	h.waitFor("load to start", func() bool { return h.c.lookupErr(g) == kerr.CoordinatorLoadInProgress })
	h.expectCode(h.join(g, joinOpts{}).ErrorCode, kerr.CoordinatorLoadInProgress)
	list := h.c.ListGroups(context.Background(), kmsg.NewPtrListGroupsRequest())
	h.expectCode(list.ErrorCode, kerr.CoordinatorLoadInProgress)

	h.c.Unload(p)
	close(gate)
	if err := receive(t, done); err != ErrUnloaded {
		t.Fatalf("Load raced by Unload returned %v", err)
	}
	h.expectCode(h.join(g, joinOpts{}).ErrorCode, kerr.NotCoordinator)
}

func (c *Coordinator) lookupErr(groupID string) *kerr.Error {
	_, err := c.lookup(groupID, false)
	return err
}

// The background sweep fires deadlines on its own, and Close stops it.
func TestBackgroundSweepAndClose(t *testing.T) {
	before := runtime.NumGoroutine()
	h := newHarness(t, func(cfg *Config) { cfg.TickInterval = time.Millisecond })
	members := h.formGroup("swept", 1)
	h.clock.Advance(11 * time.Second) // no explicit tick: the sweep notices
	h.waitFor("session expiry by the sweep", func() bool { return h.state("swept") == stateEmpty })
	h.expectCode(h.heartbeat("swept", members[0].id, members[0].generation, ""), kerr.UnknownMemberID)

	h.c.Close()
	h.waitFor("the sweep goroutine to exit", func() bool { return runtime.NumGoroutine() <= before })
}

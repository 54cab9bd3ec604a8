package group

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Three members join during the initial rebalance delay, which extends once
// for the late arrivals; they land in one generation, the leader alone gets
// the member list, the majority's protocol wins, and SyncGroup delivers
// each member its own assignment.
func TestThreeMembersJoinAndSync(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		cfg.NoInitialRebalanceDelay = false
		cfg.InitialRebalanceDelay = 3 * time.Second
	})
	const g = "three"
	prefs := [][]string{{"range", "roundrobin"}, {"roundrobin", "range"}, {"roundrobin", "range"}}
	var parked []<-chan *kmsg.JoinGroupResponse
	for i, p := range prefs {
		id := h.newMemberID(g)
		parked = append(parked, h.joinAsync(g, joinOpts{memberID: id, protocols: p}))
		h.waitFor("member to park", func() bool { return h.parkedJoins(g) == i+1 })
	}
	h.advance(3 * time.Second) // members 2 and 3 arrived during the delay: extended
	if s := h.state(g); s != statePreparingRebalance {
		t.Fatalf("state %s after the first delay, want PreparingRebalance", s)
	}
	for _, ch := range parked {
		expectParked(t, ch)
	}
	h.advance(3 * time.Second)

	var joins []*kmsg.JoinGroupResponse
	for _, ch := range parked {
		resp := h.receive(ch)
		h.expectCode(resp.ErrorCode, nil)
		joins = append(joins, resp)
	}
	leader := joins[0].LeaderID
	for _, j := range joins {
		if j.Generation != 1 || j.LeaderID != leader || *j.Protocol != "roundrobin" {
			t.Fatalf("join answer gen %d leader %s protocol %s; want 1, %s, roundrobin", j.Generation, j.LeaderID, *j.Protocol, leader)
		}
		if want := map[bool]int{true: 3, false: 0}[j.MemberID == leader]; len(j.Members) != want {
			t.Fatalf("member %s got %d members, want %d", j.MemberID, len(j.Members), want)
		}
	}
	if s := h.state(g); s != stateCompletingRebalance {
		t.Fatalf("state %s, want CompletingRebalance", s)
	}

	members := make([]*stableMember, len(joins))
	for i, j := range joins {
		members[i] = &stableMember{id: j.MemberID, generation: j.Generation}
	}
	h.syncAll(g, members, joins)
	for _, m := range members {
		if m.assignment != "a-"+m.id {
			t.Fatalf("member %s got assignment %q", m.id, m.assignment)
		}
		h.expectCode(h.heartbeat(g, m.id, 1, ""), nil)
	}
	if s := h.state(g); s != stateStable {
		t.Fatalf("state %s, want Stable", s)
	}
	md, _ := h.store.groupRecords(t, h.c.PartitionFor(g), g)
	last := md[len(md)-1]
	if last.Generation != 1 || len(last.Members) != 3 || *last.Protocol != "roundrobin" || string(last.Members[0].Assignment) != "a-"+last.Members[0].MemberID {
		t.Fatalf("persisted group metadata %+v", last)
	}
}

// A new member makes the stable members rebalance (formGroup asserts the
// REBALANCE_IN_PROGRESS heartbeats), and a leaving member does too.
func TestRebalanceOnJoinAndLeave(t *testing.T) {
	h := newHarness(t, nil)
	const g = "grow"
	members := h.formGroup(g, 3)
	if members[0].generation != 3 {
		t.Fatalf("generation %d after three joins, want 3", members[0].generation)
	}
	for _, m := range members {
		if m.assignment != "a-"+m.id {
			t.Fatalf("member %s got %q", m.id, m.assignment)
		}
	}

	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version = 3
	leave.Group = g
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = members[2].id
	unknown := kmsg.NewLeaveGroupRequestMember()
	unknown.MemberID = "nobody"
	leave.Members = []kmsg.LeaveGroupRequestMember{lm, unknown}
	resp := h.c.LeaveGroup(context.Background(), leave)
	h.expectCode(resp.ErrorCode, nil)
	h.expectCode(resp.Members[0].ErrorCode, nil)
	h.expectCode(resp.Members[1].ErrorCode, kerr.UnknownMemberID)

	gen := members[0].generation
	h.expectCode(h.heartbeat(g, members[0].id, gen, ""), kerr.RebalanceInProgress)
	h.expectCode(h.heartbeat(g, members[2].id, gen, ""), kerr.UnknownMemberID)
	a := h.joinAsync(g, joinOpts{memberID: members[0].id})
	b := h.joinAsync(g, joinOpts{memberID: members[1].id})
	ra, rb := h.receive(a), h.receive(b)
	if ra.Generation != gen+1 || rb.Generation != gen+1 {
		t.Fatalf("generations %d %d, want %d", ra.Generation, rb.Generation, gen+1)
	}

	// Pre-v3 LeaveGroup (one member per request) empties the group.
	for _, id := range []string{members[0].id, members[1].id} {
		old := kmsg.NewPtrLeaveGroupRequest()
		old.Version = 1
		old.Group = g
		old.MemberID = id
		h.expectCode(h.c.LeaveGroup(context.Background(), old).ErrorCode, nil)
	}
	if s := h.state(g); s != stateEmpty {
		t.Fatalf("state %s after everyone left, want Empty", s)
	}
	md, _ := h.store.groupRecords(t, h.c.PartitionFor(g), g)
	if last := md[len(md)-1]; len(last.Members) != 0 || last.Generation != gen+2 {
		t.Fatalf("empty group persisted as %+v", last)
	}
}

// A member that stops heartbeating is removed after its session timeout and
// the rest rebalance without it.
func TestSessionTimeoutRemovesMember(t *testing.T) {
	h := newHarness(t, nil)
	const g = "sessions"
	members := h.formGroup(g, 2)
	gen := members[0].generation

	h.advance(6 * time.Second)
	h.expectCode(h.heartbeat(g, members[0].id, gen, ""), nil)
	h.advance(6 * time.Second) // members[1] last heard from 12s ago, session 10s
	if s := h.state(g); s != statePreparingRebalance {
		t.Fatalf("state %s after the session expired, want PreparingRebalance", s)
	}
	h.expectCode(h.heartbeat(g, members[1].id, gen, ""), kerr.UnknownMemberID)
	h.expectCode(h.heartbeat(g, members[0].id, gen, ""), kerr.RebalanceInProgress)
	resp := h.join(g, joinOpts{memberID: members[0].id}) // alone: completes at once
	if resp.Generation != gen+1 || len(resp.Members) != 1 || resp.LeaderID != members[0].id {
		t.Fatalf("rejoin answer %+v", resp)
	}
}

// Members that do not rejoin within the rebalance timeout are dropped from
// the next generation.
func TestRebalanceTimeoutDropsMembersThatDoNotRejoin(t *testing.T) {
	h := newHarness(t, nil)
	const g = "slow"
	members := h.formGroup(g, 2)
	newcomer := h.joinAsync(g, joinOpts{memberID: h.newMemberID(g)})
	h.waitFor("newcomer parked", func() bool { return h.parkedJoins(g) == 1 })
	rejoin := h.joinAsync(g, joinOpts{memberID: members[0].id})
	h.waitFor("rejoin parked", func() bool { return h.parkedJoins(g) == 2 })
	// members[1] keeps heartbeating but never rejoins.
	for range 11 {
		h.advance(5 * time.Second)
		h.expectCode(h.heartbeat(g, members[1].id, members[1].generation, ""), kerr.RebalanceInProgress)
	}
	expectParked(t, rejoin)
	h.advance(5 * time.Second) // 60s: the rebalance timeout

	for _, ch := range []<-chan *kmsg.JoinGroupResponse{newcomer, rejoin} {
		resp := h.receive(ch)
		h.expectCode(resp.ErrorCode, nil)
		if resp.Generation != members[0].generation+1 {
			t.Fatalf("generation %d", resp.Generation)
		}
	}
	h.expectCode(h.heartbeat(g, members[1].id, members[1].generation, ""), kerr.UnknownMemberID)
}

// KIP-394: a v4+ first join gets MEMBER_ID_REQUIRED and an id; older
// versions join directly; ids the group never issued are unknown, and an
// issued id that is not used within the session timeout expires.
func TestMemberIDRequired(t *testing.T) {
	h := newHarness(t, nil)
	const g = "kip394"
	first := h.join(g, joinOpts{version: 4})
	h.expectCode(first.ErrorCode, kerr.MemberIDRequired)
	if first.MemberID == "" || first.Generation != -1 {
		t.Fatalf("MEMBER_ID_REQUIRED answer %+v", first)
	}
	h.expectCode(h.join(g, joinOpts{version: 4, memberID: "made-up"}).ErrorCode, kerr.UnknownMemberID)

	joined := h.join(g, joinOpts{version: 4, memberID: first.MemberID})
	h.expectCode(joined.ErrorCode, nil)
	if joined.MemberID != first.MemberID || joined.Generation != 1 {
		t.Fatalf("second join answer %+v", joined)
	}

	h2 := newHarness(t, nil)
	old := h2.join(g, joinOpts{version: 3})
	h2.expectCode(old.ErrorCode, nil)
	if old.MemberID == "" || old.Generation != 1 {
		t.Fatalf("v3 join answer %+v", old)
	}

	stale := h.newMemberID(g)
	h.advance(11 * time.Second)
	h.expectCode(h.join(g, joinOpts{memberID: stale}).ErrorCode, kerr.UnknownMemberID)
}

func TestJoinValidation(t *testing.T) {
	h := newHarness(t, nil)
	h.expectCode(h.join("", joinOpts{}).ErrorCode, kerr.InvalidGroupID)
	h.expectCode(h.join("g", joinOpts{session: time.Second}).ErrorCode, kerr.InvalidSessionTimeout)
	h.expectCode(h.join("g", joinOpts{session: time.Hour}).ErrorCode, kerr.InvalidSessionTimeout)
	h.expectCode(h.join("never-joined", joinOpts{memberID: "x"}).ErrorCode, kerr.UnknownMemberID)

	members := h.formGroup("g", 1)
	other := h.join("g", joinOpts{version: 3, protocols: []string{"sticky"}})
	h.expectCode(other.ErrorCode, kerr.InconsistentGroupProtocol)

	// Sync and heartbeat with a stale generation.
	resp := receive(t, h.sync("g", members[0].id, members[0].generation-1, nil))
	h.expectCode(resp.ErrorCode, kerr.IllegalGeneration)
	h.expectCode(h.heartbeat("g", members[0].id, 99, ""), kerr.IllegalGeneration)
	h.expectCode(h.heartbeat("g", "stranger", members[0].generation, ""), kerr.UnknownMemberID)

	h.c.Unload(h.c.PartitionFor("g"))
	h.expectCode(h.join("g", joinOpts{}).ErrorCode, kerr.NotCoordinator)
	h.expectCode(h.heartbeat("g", members[0].id, members[0].generation, ""), kerr.NotCoordinator)
}

// A parked JoinGroup whose context ends answers and stops counting as
// joined; Close answers the ones still parked.
func TestParkedJoinCancelAndClose(t *testing.T) {
	h := newHarness(t, nil)
	const g = "parked"
	members := h.formGroup(g, 1)

	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan *kmsg.JoinGroupResponse, 1)
	req := h.joinRequest(g, joinOpts{memberID: h.newMemberID(g)})
	go func() { out <- h.c.JoinGroup(ctx, Client{ID: "c"}, req) }()
	h.waitFor("join parked", func() bool { return h.parkedJoins(g) == 1 })
	cancel()
	h.expectCode(receive(t, out).ErrorCode, kerr.RebalanceInProgress)
	if n := h.parkedJoins(g); n != 0 {
		t.Fatalf("%d joins still parked", n)
	}

	parked := h.joinAsync(g, joinOpts{memberID: members[0].id})
	h.waitFor("rejoin parked", func() bool { return h.parkedJoins(g) == 1 })
	h.c.Close()
	h.expectCode(h.receive(parked).ErrorCode, kerr.NotCoordinator)
	h.expectCode(h.join(g, joinOpts{}).ErrorCode, kerr.CoordinatorNotAvailable)
}

// A follower rejoining a stable group with unchanged metadata just gets the
// current generation back; the leader's failed assignment write is not
// applied and sends the group back to rebalancing.
func TestFollowerRejoinAndFailedAssignmentWrite(t *testing.T) {
	h := newHarness(t, nil)
	const g = "sync-fail"
	members := h.formGroup(g, 2)
	leader, follower := h.leader(g, members)
	resp := h.join(g, joinOpts{memberID: follower.id})
	h.expectCode(resp.ErrorCode, nil)
	if resp.Generation != follower.generation || h.state(g) != stateStable {
		t.Fatalf("follower rejoin answer %+v, state %s", resp, h.state(g))
	}

	a := h.joinAsync(g, joinOpts{memberID: leader.id})
	h.waitFor("rebalance", func() bool { return h.state(g) == statePreparingRebalance })
	b := h.joinAsync(g, joinOpts{memberID: follower.id})
	ja, jb := h.receive(a), h.receive(b)
	followerSync := h.sync(g, follower.id, jb.Generation, nil)
	h.waitFor("follower sync parked", func() bool {
		parked := false
		h.inspect(g, func(gr *group) { parked = gr.members[follower.id].syncWaiter != nil })
		return parked
	})
	h.store.failNextAppend(kerr.NotLeaderForPartition)
	leaderSync := receive(t, h.sync(g, leader.id, ja.Generation, map[string]string{leader.id: "x", follower.id: "y"}))
	h.expectCode(leaderSync.ErrorCode, kerr.NotCoordinator)
	h.expectCode(receive(t, followerSync).ErrorCode, kerr.NotCoordinator)
	if s := h.state(g); s != statePreparingRebalance {
		t.Fatalf("state %s after a failed assignment write, want PreparingRebalance", s)
	}
}

// Members that never send SyncGroup are removed after the rebalance
// timeout, so the group does not stay in CompletingRebalance.
func TestPendingSyncExpiry(t *testing.T) {
	h := newHarness(t, nil)
	const g = "no-sync"
	members := h.formGroup(g, 1)
	newcomer := h.joinAsync(g, joinOpts{memberID: h.newMemberID(g)})
	h.waitFor("rebalance", func() bool { return h.state(g) == statePreparingRebalance })
	rejoin := h.receive(h.joinAsync(g, joinOpts{memberID: members[0].id}))
	joined := h.receive(newcomer)
	h.expectCode(receive(t, h.sync(g, rejoin.MemberID, rejoin.Generation, nil)).ErrorCode, nil) // the old leader stays leader
	// The other member never syncs; both keep heartbeating.
	for range 12 {
		h.advance(5 * time.Second)
		h.heartbeat(g, rejoin.MemberID, rejoin.Generation, "")
		h.heartbeat(g, joined.MemberID, joined.Generation, "")
	}
	var present []string
	h.inspect(g, func(gr *group) {
		for id := range gr.members {
			present = append(present, id)
		}
	})
	if len(present) != 1 || present[0] != rejoin.MemberID {
		t.Fatalf("members %v after the sync deadline, want only %s", present, rejoin.MemberID)
	}
}

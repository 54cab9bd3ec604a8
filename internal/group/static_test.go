package group

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// KIP-345: a restarted static member (known instance id, no member id) with
// unchanged metadata gets a new member id and its old assignment without a
// rebalance; its old member id is fenced.
func TestStaticMemberRejoinWithoutRebalance(t *testing.T) {
	h := newHarness(t, nil)
	const g = "static"
	members := h.formGroup(g, 2, "i-a", "i-b")
	var old *stableMember
	for _, m := range members {
		if m.instanceID == "i-b" {
			old = m
		}
	}
	gen := old.generation
	var leaderBefore string
	h.inspect(g, func(gr *group) { leaderBefore = gr.leader })

	resp := h.join(g, joinOpts{instanceID: "i-b"}) // answered without parking
	h.expectCode(resp.ErrorCode, nil)
	if resp.MemberID == old.id || resp.Generation != gen || resp.LeaderID != leaderBefore || len(resp.Members) != 0 {
		t.Fatalf("static rejoin answer %+v (old id %s, gen %d, leader %s)", resp, old.id, gen, leaderBefore)
	}
	if s := h.state(g); s != stateStable {
		t.Fatalf("state %s, want Stable (no rebalance)", s)
	}

	h.expectCode(h.heartbeat(g, old.id, gen, "i-b"), kerr.FencedInstanceID)
	h.expectCode(h.heartbeat(g, resp.MemberID, gen, "i-b"), nil)
	sync := receive(t, h.sync(g, resp.MemberID, gen, nil))
	h.expectCode(sync.ErrorCode, nil)
	if string(sync.MemberAssignment) != "a-"+old.id {
		t.Fatalf("replaced member got %q, want the old assignment", sync.MemberAssignment)
	}

	// The replacement is persisted, so a reload fences the old id too.
	p := h.c.PartitionFor(g)
	h.c.Unload(p)
	if err := h.c.Load(p); err != nil {
		t.Fatal(err)
	}
	h.expectCode(h.heartbeat(g, old.id, gen, "i-b"), kerr.FencedInstanceID)
	h.expectCode(h.heartbeat(g, resp.MemberID, gen, "i-b"), nil)
}

// A static member that comes back with different metadata rebalances the
// group; removing a static member by instance id alone works (KIP-345).
func TestStaticMemberRejoinWithNewMetadataRebalances(t *testing.T) {
	h := newHarness(t, nil)
	const g = "static-change"
	h.formGroup(g, 2, "i-a", "i-b")
	rejoin := h.joinAsync(g, joinOpts{instanceID: "i-b", topics: []string{"t1", "t2"}})
	h.waitFor("rebalance", func() bool { return h.state(g) == statePreparingRebalance })
	expectParked(t, rejoin)

	leave := newLeave(g, "", "i-a")
	resp := h.c.LeaveGroup(context.Background(), leave)
	h.expectCode(resp.Members[0].ErrorCode, nil)
	joined := h.receive(rejoin) // the only member left has rejoined
	h.expectCode(joined.ErrorCode, nil)
	if len(joined.Members) != 1 || joined.LeaderID != joined.MemberID {
		t.Fatalf("answer %+v", joined)
	}

	h.expectCode(h.c.LeaveGroup(context.Background(), newLeave(g, "", "i-gone")).Members[0].ErrorCode, kerr.UnknownMemberID)
}

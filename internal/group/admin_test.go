package group

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (h *harness) describe(version int16, groups ...string) *kmsg.DescribeGroupsResponse {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version = version
	req.Groups = groups
	return h.c.DescribeGroups(context.Background(), req)
}

func (h *harness) list(states ...string) map[string]string {
	req := kmsg.NewPtrListGroupsRequest()
	req.Version = 4
	req.StatesFilter = states
	resp := h.c.ListGroups(context.Background(), req)
	h.expectCode(resp.ErrorCode, nil)
	out := make(map[string]string)
	for _, g := range resp.Groups {
		out[g.Group] = g.GroupState
	}
	return out
}

func TestDescribeAndList(t *testing.T) {
	h := newHarness(t, nil)
	members := h.formGroup("stable", 2)
	if err := h.commit("offsets-only", "", -1, map[string]map[int32]int64{"t": {0: 1}}); err != nil {
		t.Fatal(err)
	}

	resp := h.describe(5, "stable", "offsets-only", "missing")
	stable, empty, missing := resp.Groups[0], resp.Groups[1], resp.Groups[2]
	if stable.State != "Stable" || stable.ProtocolType != "consumer" || stable.Protocol != "range" || len(stable.Members) != 2 {
		t.Fatalf("stable group described as %+v", stable)
	}
	for _, m := range stable.Members {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.ProtocolMetadata); err != nil || meta.Topics[0] != "t1" || string(m.MemberAssignment) != "a-"+m.MemberID || m.ClientID != "client" {
			t.Fatalf("member described as %+v (%v)", m, err)
		}
	}
	if empty.State != "Empty" || empty.ErrorCode != 0 || len(empty.Members) != 0 {
		t.Fatalf("offsets-only group described as %+v", empty)
	}
	if missing.State != "Dead" || missing.ErrorCode != 0 {
		t.Fatalf("missing group described (v5) as %+v", missing)
	}
	h.expectCode(h.describe(6, "missing").Groups[0].ErrorCode, kerr.GroupIDNotFound)

	// During a rebalance, members are listed without metadata.
	leader, follower := h.leader("stable", members)
	parked := h.joinAsync("stable", joinOpts{memberID: leader.id})
	h.waitFor("rebalance", func() bool { return h.state("stable") == statePreparingRebalance })
	d := h.describe(5, "stable").Groups[0]
	if d.State != "PreparingRebalance" || d.Protocol != "" || d.Members[0].MemberAssignment != nil {
		t.Fatalf("rebalancing group described as %+v", d)
	}

	all := h.list()
	if all["stable"] != "PreparingRebalance" || all["offsets-only"] != "Empty" || len(all) != 2 {
		t.Fatalf("listed %v", all)
	}
	if only := h.list("empty"); len(only) != 1 || only["offsets-only"] != "Empty" {
		t.Fatalf("listed with state filter %v", only)
	}
	typed := kmsg.NewPtrListGroupsRequest()
	typed.Version = 5
	typed.TypesFilter = []string{"consumer"}
	if groups := h.c.ListGroups(context.Background(), typed).Groups; len(groups) != 0 {
		t.Fatalf("type filter 'consumer' listed %v, want no classic groups", groups)
	}

	h.expectCode(h.heartbeat("stable", follower.id, follower.generation, ""), kerr.RebalanceInProgress)
	h.receive(h.joinAsync("stable", joinOpts{memberID: follower.id}))
	h.receive(parked)
}

func TestDeleteGroups(t *testing.T) {
	h := newHarness(t, nil)
	h.formGroup("busy", 1)
	if err := h.commit("idle", "", -1, map[string]map[int32]int64{"t": {0: 1, 1: 2}}); err != nil {
		t.Fatal(err)
	}

	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Version = 2
	req.Groups = []string{"busy", "idle", "missing"}
	resp := h.c.DeleteGroups(context.Background(), req)
	h.expectCode(resp.Groups[0].ErrorCode, kerr.NonEmptyGroup)
	h.expectCode(resp.Groups[1].ErrorCode, nil)
	h.expectCode(resp.Groups[2].ErrorCode, kerr.GroupIDNotFound)

	if got := h.fetch("idle", "t", 0, 1); got["t"][0] != -1 || got["t"][1] != -1 {
		t.Fatalf("offsets of a deleted group: %v", got)
	}
	if _, ok := h.list()["idle"]; ok {
		t.Fatal("deleted group still listed")
	}

	// Deleted for good: the tombstones win on reload.
	p := h.c.PartitionFor("idle")
	h.c.Unload(p)
	if err := h.c.Load(p); err != nil {
		t.Fatal(err)
	}
	if s := h.state("idle"); s != stateDead {
		t.Fatalf("deleted group reloaded as %s", s)
	}

	// A failed delete leaves the group in place.
	if err := h.commit("kept", "", -1, map[string]map[int32]int64{"t": {0: 1}}); err != nil {
		t.Fatal(err)
	}
	h.store.failNextAppend(kerr.NotEnoughReplicas)
	req.Groups = []string{"kept"}
	h.expectCode(h.c.DeleteGroups(context.Background(), req).Groups[0].ErrorCode, kerr.CoordinatorNotAvailable)
	if got := h.fetch("kept", "t", 0); got["t"][0] != 1 {
		t.Fatalf("offsets after a failed delete: %v", got)
	}
}

func TestOffsetDelete(t *testing.T) {
	h := newHarness(t, nil)
	members := h.formGroup("consuming", 1) // subscribed to t1
	offsets := map[string]map[int32]int64{"t1": {0: 1}, "t2": {0: 2}}
	if err := h.commit("consuming", members[0].id, members[0].generation, offsets); err != nil {
		t.Fatal(err)
	}

	del := func(groupID string, topics ...string) *kmsg.OffsetDeleteResponse {
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = groupID
		for _, topic := range topics {
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewOffsetDeleteRequestTopicPartition()
			rt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{rp}
			req.Topics = append(req.Topics, rt)
		}
		return h.c.OffsetDelete(context.Background(), req)
	}
	resp := del("consuming", "t1", "t2")
	h.expectCode(resp.ErrorCode, nil)
	h.expectCode(resp.Topics[0].Partitions[0].ErrorCode, kerr.GroupSubscribedToTopic)
	h.expectCode(resp.Topics[1].Partitions[0].ErrorCode, nil)
	got := h.fetch("consuming", "")
	if _, ok := got["t2"]; ok || got["t1"][0] != 1 {
		t.Fatalf("offsets after OffsetDelete: %v", got)
	}

	h.expectCode(del("missing", "t1").ErrorCode, kerr.GroupIDNotFound)

	// A group with members whose protocol is not "consumer" cannot have
	// its offsets deleted at all.
	req := h.joinRequest("connect", joinOpts{version: 3})
	req.ProtocolType = "connect"
	resp2 := h.c.JoinGroup(context.Background(), Client{ID: "w"}, req)
	h.expectCode(resp2.ErrorCode, nil)
	h.expectCode(del("connect", "t1").ErrorCode, kerr.NonEmptyGroup)

	// Once the group is empty, every offset can go.
	h.expectCode(h.c.LeaveGroup(context.Background(), newLeave("consuming", members[0].id, "")).Members[0].ErrorCode, nil)
	h.expectCode(del("consuming", "t1").Topics[0].Partitions[0].ErrorCode, nil)
	if got := h.fetch("consuming", ""); len(got) != 0 {
		t.Fatalf("offsets left: %v", got)
	}
}

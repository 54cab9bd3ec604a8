package group

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func commitRequest(groupID, memberID string, generation int32, offsets map[string]map[int32]int64) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group = groupID
	req.MemberID = memberID
	req.Generation = generation
	for topic, parts := range offsets {
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		for p, o := range parts {
			rp := kmsg.NewOffsetCommitRequestTopicPartition()
			rp.Partition = p
			rp.Offset = o
			rp.LeaderEpoch = 7
			rp.Metadata = stringPtr("meta")
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func (h *harness) commit(groupID, memberID string, generation int32, offsets map[string]map[int32]int64) *kerr.Error {
	h.t.Helper()
	resp := h.c.OffsetCommit(context.Background(), commitRequest(groupID, memberID, generation, offsets))
	var first *kerr.Error
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			err := kerr.TypedErrorForCode(p.ErrorCode)
			if first == nil {
				first = err
			} else if err != first {
				h.t.Fatalf("mixed partition errors %v and %v", first, err)
			}
		}
	}
	return first
}

// fetch returns topic -> partition -> offset for one group with OffsetFetch
// v7; nil partitions asks for every committed offset.
func (h *harness) fetch(groupID string, topic string, partitions ...int32) map[string]map[int32]int64 {
	h.t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 7
	req.Group = groupID
	if topic != "" {
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic = topic
		rt.Partitions = partitions
		req.Topics = []kmsg.OffsetFetchRequestTopic{rt}
	}
	resp := h.c.OffsetFetch(context.Background(), req)
	h.expectCode(resp.ErrorCode, nil)
	out := make(map[string]map[int32]int64)
	for _, t := range resp.Topics {
		out[t.Topic] = make(map[int32]int64)
		for _, p := range t.Partitions {
			h.expectCode(p.ErrorCode, nil)
			out[t.Topic][p.Partition] = p.Offset
		}
	}
	return out
}

func TestSimpleCommitAndFetch(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.commit("simple", "", -1, map[string]map[int32]int64{"t1": {0: 10, 1: 20}}); err != nil {
		t.Fatal(err)
	}
	got := h.fetch("simple", "t1", 0, 1, 2)
	if got["t1"][0] != 10 || got["t1"][1] != 20 || got["t1"][2] != -1 {
		t.Fatalf("fetched %v", got)
	}
	if all := h.fetch("simple", ""); len(all["t1"]) != 2 {
		t.Fatalf("fetch of all offsets %v", all)
	}
	if got := h.fetch("unknown-group", "t1", 0); got["t1"][0] != -1 {
		t.Fatalf("unknown group fetched %v, want -1", got)
	}

	// Batched v8 fetch, with the leader epoch and metadata.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	for _, id := range []string{"simple", "unknown-group"} {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = id
		rt := kmsg.NewOffsetFetchRequestGroupTopic()
		rt.Topic = "t1"
		rt.Partitions = []int32{1}
		rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{rt}
		req.Groups = append(req.Groups, rg)
	}
	resp := h.c.OffsetFetch(context.Background(), req)
	p0 := resp.Groups[0].Topics[0].Partitions[0]
	p1 := resp.Groups[1].Topics[0].Partitions[0]
	if p0.Offset != 20 || p0.LeaderEpoch != 7 || *p0.Metadata != "meta" || p1.Offset != -1 || resp.Groups[1].ErrorCode != 0 {
		t.Fatalf("batched fetch %+v / %+v", p0, p1)
	}

	// Commits are validated before they are stored.
	if err := h.commit("other", "", 3, map[string]map[int32]int64{"t1": {0: 1}}); err != kerr.IllegalGeneration {
		t.Fatalf("commit with a generation to a missing group: %v", err)
	}
	big := commitRequest("simple", "", -1, map[string]map[int32]int64{"t1": {0: 99}})
	big.Topics[0].Partitions[0].Metadata = stringPtr(strings.Repeat("x", 5000))
	h.expectCode(h.c.OffsetCommit(context.Background(), big).Topics[0].Partitions[0].ErrorCode, kerr.OffsetMetadataTooLarge)

	// A store failure is mapped for the client and not applied.
	h.store.failNextAppend(kerr.NotLeaderForPartition)
	if err := h.commit("simple", "", -1, map[string]map[int32]int64{"t1": {0: 11}}); err != kerr.NotCoordinator {
		t.Fatalf("commit during a store failure: %v", err)
	}
	if got := h.fetch("simple", "t1", 0); got["t1"][0] != 10 {
		t.Fatalf("failed commit applied: %v", got)
	}
}

func TestMemberCommitValidation(t *testing.T) {
	h := newHarness(t, nil)
	const g = "members"
	members := h.formGroup(g, 2)
	m, gen := members[0], members[0].generation
	offsets := map[string]map[int32]int64{"t1": {0: 5}}

	if err := h.commit(g, m.id, gen, offsets); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		memberID string
		gen      int32
		want     *kerr.Error
	}{
		{"stale generation", m.id, gen - 1, kerr.IllegalGeneration},
		{"unknown member", "stranger", gen, kerr.UnknownMemberID},
		{"simple commit to a group with members", "", -1, kerr.UnknownMemberID},
	}
	for _, c := range cases {
		if err := h.commit(g, c.memberID, c.gen, offsets); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}

	// Allowed while preparing a rebalance, refused while completing one.
	newcomer := h.joinAsync(g, joinOpts{memberID: h.newMemberID(g)})
	h.waitFor("rebalance", func() bool { return h.state(g) == statePreparingRebalance })
	if err := h.commit(g, m.id, gen, offsets); err != nil {
		t.Fatalf("commit while preparing: %v", err)
	}
	a := h.joinAsync(g, joinOpts{memberID: members[0].id})
	b := h.joinAsync(g, joinOpts{memberID: members[1].id})
	for _, ch := range []<-chan *kmsg.JoinGroupResponse{newcomer, a, b} {
		h.expectCode(h.receive(ch).ErrorCode, nil)
	}
	if err := h.commit(g, m.id, gen+1, offsets); err != kerr.RebalanceInProgress {
		t.Fatalf("commit while completing: %v", err)
	}
}

// Offsets of a group that stays empty expire after offsets.retention.minutes,
// and the group goes with its last offset.
func TestOffsetRetention(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.commit("old", "", -1, map[string]map[int32]int64{"t1": {0: 1}}); err != nil {
		t.Fatal(err)
	}
	h.advance(6 * 24 * time.Hour)
	if err := h.commit("old", "", -1, map[string]map[int32]int64{"t2": {0: 1}}); err != nil {
		t.Fatal(err)
	}
	h.advance(24 * time.Hour)
	got := h.fetch("old", "")
	if _, ok := got["t1"]; ok || got["t2"][0] != 1 {
		t.Fatalf("after 7 days: %v, want only t2", got)
	}
	h.advance(6 * 24 * time.Hour)
	if s := h.state("old"); s != stateDead {
		t.Fatalf("group state %s after all offsets expired, want gone", s)
	}
	if _, tombstones := h.store.groupRecords(t, h.c.PartitionFor("old"), "old"); tombstones != 1 {
		t.Fatalf("%d group tombstones, want 1", tombstones)
	}
}

package group

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// offsetTombstones lists, sorted, the partitions of topic that have an offset tombstone
// of groupID in the store's partition.
func (s *memStore) offsetTombstones(t *testing.T, partition int32, groupID, topic string) []int32 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var tombstoned []int32
	for _, r := range s.partitions[partition] {
		if kind, _ := kindOf(r.Key); kind != kindOffset || r.Value != nil {
			continue
		}
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(r.Key); err != nil {
			t.Fatalf("stored offset key does not decode: %v", err)
		}
		if k.Group == groupID && k.Topic == topic {
			tombstoned = append(tombstoned, k.Partition)
		}
	}
	slices.Sort(tombstoned)
	return tombstoned
}

func (h *harness) expectOffsets(groupID string, want map[string]map[int32]int64) {
	h.t.Helper()
	if got := h.fetch(groupID, ""); fmt.Sprint(got) != fmt.Sprint(want) {
		h.t.Fatalf("offsets of %s: %v, want %v", groupID, got, want)
	}
}

func (h *harness) expectTombstones(groupID, topic string, want ...int32) {
	h.t.Helper()
	got := h.store.offsetTombstones(h.t, h.c.PartitionFor(groupID), groupID, topic)
	if !slices.Equal(got, want) {
		h.t.Fatalf("offset tombstones of %s for %s: %v, want %v", groupID, topic, got, want)
	}
}

// TopicsDeleted tombstones every committed and pending offset of the deleted topic and
// nothing else: OffsetFetch no longer lists them, the pending one's commit marker does
// not bring it back, and neither does a reload.
func TestTopicsDeletedDeletesOffsetsDurably(t *testing.T) {
	h := newHarness(t, nil)
	const g = "deleted-topic"
	if err := h.commit(g, "", -1, map[string]map[int32]int64{"t1": {0: 5, 3: 6}, "t2": {0: 7}}); err != nil {
		t.Fatal(err)
	}
	if err := h.txnCommit(g, txnCommit{producerID: 9, offsets: map[int32]int64{1: 8}}); err != nil {
		t.Fatal(err)
	}

	h.c.TopicsDeleted([]string{"t1", "never-committed"})
	h.waitFor("t1's offsets deleted", func() bool { _, listed := h.fetch(g, "")["t1"]; return !listed })
	h.expectOffsets(g, map[string]map[int32]int64{"t2": {0: 7}})
	h.expectTombstones(g, "t1", 0, 1, 3)
	h.expectTombstones(g, "t2")
	h.expectFetched(g, true, map[int32]fetched{1: committedAt(-1)}) // no longer pending

	h.endTxn(g, 9, true)
	h.expectOffsets(g, map[string]map[int32]int64{"t2": {0: 7}})
	h.restart(g).expectOffsets(g, map[string]map[int32]int64{"t2": {0: 7}})
}

// Offsets committed after the deletion was seen belong to a topic created again under
// the name and are kept; older ones of the same deletion are not.
func TestTopicsDeletedKeepsLaterCommits(t *testing.T) {
	h := newHarness(t, nil)
	const g = "recreated-topic"
	if err := h.commit(g, "", -1, map[string]map[int32]int64{"old": {0: 1}}); err != nil {
		t.Fatal(err)
	}
	deletedAt := h.clock.Now().Add(time.Second)
	h.clock.Advance(2 * time.Second)
	if err := h.commit(g, "", -1, map[string]map[int32]int64{"t1": {0: 2}}); err != nil {
		t.Fatal(err)
	}
	h.c.topicsDeletedAt([]string{"old", "t1"}, deletedAt)
	h.c.Close() // waits for the deletion
	h.expectTombstones(g, "old", 0)
	h.expectTombstones(g, "t1")
	h.restart(g).expectOffsets(g, map[string]map[int32]int64{"t1": {0: 2}})
}

// A partition loaded after its topics were deleted (its broker was down, or another
// broker led it) tombstones their offsets as it loads: they are not served, and stay
// deleted when the topic exists again at the next load. A transaction's pending offset
// of the topic goes too, so its commit marker brings nothing back.
func TestLoadDeletesOffsetsOfMissingTopics(t *testing.T) {
	h := newHarness(t, nil)
	const g = "missing-on-load"
	if err := h.commit(g, "", -1, map[string]map[int32]int64{"t1": {0: 5}, "t2": {1: 6}}); err != nil {
		t.Fatal(err)
	}
	if err := h.txnCommit(g, txnCommit{producerID: 4, offsets: map[int32]int64{2: 9}}); err != nil {
		t.Fatal(err)
	}
	h.c.Close()

	exists := func(missing string) func(*Config) {
		return func(cfg *Config) { cfg.TopicExists = func(topic string) bool { return topic != missing } }
	}
	r := h.restartWith(g, exists("t1"))
	r.expectOffsets(g, map[string]map[int32]int64{"t2": {1: 6}})
	r.expectTombstones(g, "t1", 0, 2)
	r.expectTombstones(g, "t2")
	r.endTxn(g, 4, true)
	r.expectOffsets(g, map[string]map[int32]int64{"t2": {1: 6}})
	r.c.Close()

	again := h.restartWith(g, exists(""))
	again.expectOffsets(g, map[string]map[int32]int64{"t2": {1: 6}})
	again.expectTombstones(g, "t1", 0, 2) // nothing was left to delete
}

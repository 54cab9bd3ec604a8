package console

import (
	"slices"
	"strings"
	"testing"
)

// A replica that truncates is told, whether its log end went down or it wrote the same
// offsets again under a newer leader between two views; a replica that only grew is not.
func TestReplicaWatchTruncation(t *testing.T) {
	recs := func(epoch int32, from, to int64, prefix string) []ReplicaRecord {
		var out []ReplicaRecord
		for o := from; o < to; o++ {
			out = append(out, ReplicaRecord{Offset: o, Value: prefix + string(rune('0'+o)), Epoch: epoch})
		}
		return out
	}
	view := func(leader int32, epoch int32, nodes ...ReplicaNode) ReplicaView {
		v := emptyView(1, "t")
		v.Leader, v.LeaderEpoch, v.Replicas, v.ISR, v.Nodes = leader, epoch, []int32{1, 2}, []int32{1, 2}, nodes
		return v
	}
	node := func(id int32, end int64, rs []ReplicaRecord) ReplicaNode {
		return ReplicaNode{ID: id, Up: true, Replica: true, InISR: true, LogEnd: end, Records: rs}
	}
	base := recs(0, 0, 5, "a")
	for _, tc := range []struct {
		name      string
		now       ReplicaNode
		cut       int64
		truncated []string
	}{
		{"grew", node(1, 8, append(slices.Clone(base), recs(0, 5, 8, "a")...)), -1, nil},
		{"cut back", node(1, 3, base[:3]), 3, []string{"a3", "a4"}},
		{"rewritten", node(1, 5, append(slices.Clone(base[:3]), recs(1, 3, 5, "b")...)), 3, []string{"a3", "a4"}},
	} {
		w := newReplicaWatch(1)
		w.next(view(1, 0, node(1, 5, base), node(2, 5, base)))
		changed, events := w.next(view(2, 1, tc.now, node(2, 5, base)))
		if !changed {
			t.Fatalf("%s: no change seen", tc.name)
		}
		var got []Event
		for _, e := range events {
			if e.Type == "truncated" {
				got = append(got, e)
			}
		}
		if tc.cut < 0 {
			if len(got) != 0 {
				t.Errorf("%s: truncation events %+v, want none", tc.name, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Node != 1 || got[0].Offset != tc.cut || !slices.Equal(got[0].Values, tc.truncated) ||
			!strings.Contains(got[0].Message, "to match the leader, node 2") {
			t.Errorf("%s: truncation events %+v, want node 1 cut at %d losing %v", tc.name, got, tc.cut, tc.truncated)
		}
	}
}

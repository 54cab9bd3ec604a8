package console

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// watchEvery is how often a run's replicas are read for the lanes.
const watchEvery = 200 * time.Millisecond

// replicaWatch turns successive views of a run's partition into events: what changed,
// in words (elections, ISR changes, nodes down or fenced, truncations), for the event
// log and for tests to wait on.
type replicaWatch struct {
	session int
	prev    *ReplicaView
	// lastUp is each node's replica when last seen running, so that a node that comes
	// back shorter than it went down shows its truncation too.
	lastUp map[int32]ReplicaNode
}

func newReplicaWatch(session int) *replicaWatch {
	return &replicaWatch{session: session, lastUp: map[int32]ReplicaNode{}}
}

// next takes a new view; it reports whether it differs from the last, and the events
// saying how.
func (w *replicaWatch) next(v ReplicaView) (bool, []Event) {
	if w.prev != nil && reflect.DeepEqual(*w.prev, v) {
		return false, nil
	}
	var events []Event
	emit := func(typ string, node int32, msg string, args ...any) *Event {
		e := newEvent(typ, w.session)
		e.Node, e.Message = node, fmt.Sprintf(msg, args...)
		events = append(events, e)
		return &events[len(events)-1]
	}
	prev := w.prev
	switch {
	case v.Topic == "" || len(v.Replicas) == 0:
	case prev == nil || len(prev.Replicas) == 0:
		emit("cluster", v.Leader, "partition 0 of %s: leader node %d (leader epoch %d), replicas %v, ISR %v, min.insync.replicas %d; controller node %d",
			v.Topic, v.Leader, v.LeaderEpoch, v.Replicas, v.ISR, v.MinISR, v.Controller)
	default:
		w.clusterChanges(*prev, v, emit)
	}
	for _, n := range v.Nodes {
		if prev != nil {
			w.nodeChanges(*prev, n, emit)
		}
		if old, ok := w.lastUp[n.ID]; ok && n.Up && n.Replica && old.Replica {
			if cut, gone := truncation(old, n); len(gone) > 0 || cut < old.LogEnd {
				e := emit("truncated", n.ID, "%s", truncationNote(n.ID, cut, v.Leader, gone))
				e.Offset, e.Partition = cut, 0
				for _, r := range gone {
					e.Values = append(e.Values, r.Value)
				}
			}
		}
		if n.Up {
			w.lastUp[n.ID] = n
		}
	}
	w.prev = &v
	return true, events
}

// clusterChanges tells a new controller, an election and a new ISR.
func (w *replicaWatch) clusterChanges(prev, v ReplicaView, emit func(string, int32, string, ...any) *Event) {
	if v.Controller != prev.Controller && v.Controller >= 0 {
		emit("controller", v.Controller, "node %d is the active controller now (it was node %d)", v.Controller, prev.Controller)
	}
	switch {
	case v.Leader == prev.Leader && v.LeaderEpoch == prev.LeaderEpoch:
	case v.Leader < 0:
		emit("election", -1, "partition 0 has no leader: no replica of its ISR %v is running", v.ISR)
	default:
		emit("election", v.Leader, "node %d elected leader of partition 0 (leader epoch %d); node %d led it before",
			v.Leader, v.LeaderEpoch, prev.Leader)
	}
	if !slices.Equal(v.ISR, prev.ISR) {
		msg := fmt.Sprintf("in-sync replicas of partition 0: %v → %v", prev.ISR, v.ISR)
		if len(v.ISR) < v.MinISR {
			msg += fmt.Sprintf(", below min.insync.replicas=%d: acks=all writes are refused", v.MinISR)
		}
		emit("isr", v.Leader, "%s", msg)
	}
}

// nodeChanges tells a node going down or coming back, fenced or unfenced.
func (w *replicaWatch) nodeChanges(prev ReplicaView, n ReplicaNode, emit func(string, int32, string, ...any) *Event) {
	i := slices.IndexFunc(prev.Nodes, func(p ReplicaNode) bool { return p.ID == n.ID })
	if i < 0 {
		return
	}
	p := prev.Nodes[i]
	switch {
	case p.Up && !n.Up:
		emit("node", n.ID, "node %d is down", n.ID)
	case !p.Up && n.Up:
		emit("node", n.ID, "node %d is running again", n.ID)
	}
	switch {
	case !p.Fenced && n.Fenced:
		emit("node", n.ID, "node %d fenced: the controller heard no heartbeat from it in time; it leads nothing now", n.ID)
	case p.Fenced && !n.Fenced:
		emit("node", n.ID, "node %d unfenced: it heartbeats to the controller again", n.ID)
	}
}

// truncationNote says what a truncation took, in words.
func truncationNote(node int32, cut int64, leader int32, gone []ReplicaRecord) string {
	msg := fmt.Sprintf("node %d truncated its log back to offset %d", node, cut)
	if leader >= 0 && leader != node {
		msg += fmt.Sprintf(" to match the leader, node %d", leader)
	}
	if len(gone) == 0 {
		return msg
	}
	var values []string
	var epochs []int32
	for _, r := range gone {
		values = append(values, r.Value)
		if !slices.Contains(epochs, r.Epoch) {
			epochs = append(epochs, r.Epoch)
		}
	}
	verb := map[bool]string{true: "is", false: "are"}[len(gone) == 1]
	return fmt.Sprintf("%s: the %s it held from there, written under leader epoch %s, %s gone%s",
		msg, plural(len(gone), "record"), strings.Trim(fmt.Sprint(epochs), "[]"), verb, valuesNote(values))
}

// truncation compares what a replica held with what it holds: the first offset it no
// longer holds as it did (cut past old's end if none), and the records it lost from
// there. Offsets the newer view no longer shows (its window moved on) are not compared.
func truncation(old, cur ReplicaNode) (cut int64, gone []ReplicaRecord) {
	cut = int64(math.MaxInt64)
	if cur.LogEnd < old.LogEnd {
		cut = cur.LogEnd
	}
	held := map[int64]ReplicaRecord{}
	for _, r := range cur.Records {
		held[r.Offset] = r
	}
	first := cur.LogEnd
	if len(cur.Records) > 0 {
		first = cur.Records[0].Offset
	}
	for _, r := range old.Records {
		if r.Offset >= cut {
			break
		}
		if now, ok := held[r.Offset]; r.Offset >= first && (!ok || now != r) {
			cut = r.Offset
		}
	}
	for _, r := range old.Records {
		if r.Offset >= cut && !r.Control {
			gone = append(gone, r)
		}
	}
	return min(cut, old.LogEnd), gone
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// valuesNote lists a few values, for the event log.
func valuesNote(values []string) string {
	if len(values) == 0 {
		return ""
	}
	shown := values[:min(len(values), 8)]
	more := ""
	if len(values) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(values)-len(shown))
	}
	return " (" + strings.Join(shown, ", ") + more + ")"
}

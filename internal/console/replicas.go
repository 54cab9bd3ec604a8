package console

import (
	"errors"
	"slices"
	"strconv"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/records"
)

// laneRecords bounds the records of each replica a view carries: the lanes show the tail
// of each log, where replication and truncation happen.
const laneRecords = 50

// ReplicaView is partition 0 of the run's topic on every sandbox node, as the replica
// lanes draw it (GET /api/sim/replicas, and replicas events while a run goes on).
//
// Leader, LeaderEpoch, ISR, Replicas, Controller and each node's Fenced are the metadata
// quorum's word: the newest image a running node applied (a node cut off from the
// others keeps an old one). Each node's own fields are what its replica holds and
// believes, so that a deposed leader cut off from the others still shows as leading.
type ReplicaView struct {
	Session     int     `json:"session"`
	Topic       string  `json:"topic,omitempty"`
	Partition   int32   `json:"partition"`
	Controller  int32   `json:"controller"` // -1: unknown
	Leader      int32   `json:"leader"`     // -1: none
	LeaderEpoch int32   `json:"leader_epoch"`
	ISR         []int32 `json:"isr"`
	Replicas    []int32 `json:"replicas"`
	MinISR      int     `json:"min_insync_replicas"`
	// HighWatermark is the leader's, -1 while the leader is not running.
	HighWatermark int64         `json:"high_watermark"`
	Nodes         []ReplicaNode `json:"nodes"`
}

// ReplicaNode is one node and its replica of the partition.
type ReplicaNode struct {
	ID       int32 `json:"id"`
	Up       bool  `json:"up"`
	Fenced   bool  `json:"fenced"`
	Isolated bool  `json:"isolated"` // cut off from the other nodes and the controller
	Slow     bool  `json:"slow"`     // its replication fetches held back
	Replica  bool  `json:"replica"`  // it holds a replica of the partition
	InISR    bool  `json:"in_isr"`
	// Leads: the replica believes it leads.
	Leads         bool            `json:"leads"`
	LeaderEpoch   int32           `json:"leader_epoch"` // as the replica knows it
	LogStart      int64           `json:"log_start"`
	LogEnd        int64           `json:"log_end"`
	HighWatermark int64           `json:"high_watermark"`
	Records       []ReplicaRecord `json:"records"` // the last laneRecords, in offset order
}

// ReplicaRecord is one record of a replica's log.
type ReplicaRecord struct {
	Offset  int64  `json:"o"`
	Value   string `json:"v"`
	Epoch   int32  `json:"e"`           // the leader epoch its batch was written under
	Control bool   `json:"c,omitempty"` // a transaction marker
}

// buildView reads partition 0 of topic ("" before the first run: nodes only) from every
// node of c.
func buildView(c *faults.Cluster, flags map[int32]nodeFlags, session int, topic string) ReplicaView {
	v := emptyView(session, topic)
	img := newestImage(c)
	if img != nil {
		v.Controller = img.ControllerID
		if t, ok := img.Topics[topic]; ok && len(t.Partitions) > 0 {
			p := t.Partitions[0]
			v.Leader, v.LeaderEpoch = p.Leader, p.LeaderEpoch
			v.ISR, v.Replicas = slices.Clone(p.ISR), slices.Clone(p.Replicas)
			v.MinISR, _ = strconv.Atoi(t.Configs["min.insync.replicas"])
		}
	}
	for _, n := range c.Nodes() {
		id := n.ID()
		f := flags[id]
		rn := ReplicaNode{ID: id, Isolated: f.Isolated, Slow: f.Slow, InISR: slices.Contains(v.ISR, id),
			LogEnd: -1, HighWatermark: -1, Records: []ReplicaRecord{}}
		if img != nil {
			br, ok := img.Brokers[id]
			rn.Fenced = !ok || br.Fenced
		}
		if b := c.Node(id).Broker(); b != nil {
			rn.Up = true
			readReplica(b, topic, &rn)
			if rn.Leads && id == v.Leader {
				v.HighWatermark = rn.HighWatermark
			}
		}
		v.Nodes = append(v.Nodes, rn)
	}
	return v
}

// newestImage is the newest metadata image a running node applied, nil if none runs: a
// node cut off from the others keeps an old one.
func newestImage(c *faults.Cluster) *cluster.Image {
	var img *cluster.Image
	for _, n := range c.Nodes() {
		if b := n.Broker(); b != nil {
			if i := b.Image(); img == nil || i.Version > img.Version {
				img = i
			}
		}
	}
	return img
}

// emptyView knows nothing yet.
func emptyView(session int, topic string) ReplicaView {
	return ReplicaView{Session: session, Topic: topic, Controller: -1, Leader: -1, HighWatermark: -1,
		ISR: []int32{}, Replicas: []int32{}, Nodes: []ReplicaNode{}}
}

// readReplica fills in what node b's replica of partition 0 holds, if it has one.
func readReplica(b *broker.Broker, topic string, rn *ReplicaNode) {
	if topic == "" {
		return
	}
	p := b.Replica(topic, 0)
	if p == nil {
		return
	}
	l := p.Leadership()
	rn.Replica = true
	rn.Leads = l.Leader == rn.ID
	rn.LeaderEpoch = l.LeaderEpoch
	rn.HighWatermark = p.HighWatermark()
	lg := p.Log()
	rn.LogStart, rn.LogEnd = lg.StartOffset(), lg.EndOffset()
	rn.Records = readTail(lg.Scan, max(rn.LogStart, rn.LogEnd-laneRecords), rn.LogEnd)
}

// errTailDone ends a scan that reached the end it was asked for.
var errTailDone = errors.New("tail read")

// readTail returns the records from offset from to end. A scan the log's truncation cut
// short gives what was read: the next view shows the truncated log.
func readTail(scan func(int64, func(records.Header, []byte) error) error, from, end int64) []ReplicaRecord {
	out := []ReplicaRecord{}
	_ = scan(from, func(h records.Header, batch []byte) error {
		if h.BaseOffset >= end {
			return errTailDone
		}
		return records.Iterate(batch, func(r records.Record) error {
			o := h.BaseOffset + int64(r.OffsetDelta)
			if o < from || o >= end {
				return nil
			}
			rr := ReplicaRecord{Offset: o, Epoch: h.PartitionLeaderEpoch, Control: h.IsControl()}
			if !rr.Control { // a marker's value is binary, no one's record
				rr.Value = string(r.Value)
			}
			out = append(out, rr)
			return nil
		})
	})
	return out
}

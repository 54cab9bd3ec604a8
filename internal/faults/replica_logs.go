package faults

import (
	"fmt"
	"math"

	"github.com/waybill/waybill/internal/partition"
)

// ReplicaLog is what one node's replica of a partition holds: its batches from the log
// start, in offset order, and its log end. Replicas of one partition that agree hold the
// same batches (offsets, leader epoch and CRC) below the smaller of their ends.
type ReplicaLog struct {
	Node      int32               `json:"node"`
	Partition int32               `json:"partition"`
	Batches   []partition.BatchID `json:"batches"`
	End       int64               `json:"end"`
}

// ReplicaLogs reads every running node's replica of topic's partitions 0 to
// partitions-1, in partition then node order. A node without a replica of a partition
// is left out.
func (c *Cluster) ReplicaLogs(topic string, partitions int32) ([]ReplicaLog, error) {
	var out []ReplicaLog
	for i := range partitions {
		for _, n := range c.nodes {
			b := n.Broker()
			if b == nil {
				continue
			}
			p := b.Replica(topic, i)
			if p == nil {
				continue
			}
			batches, err := p.Batches(math.MaxInt64)
			if err != nil {
				return nil, fmt.Errorf("faults: reading node %d's %s-%d: %w", n.id, topic, i, err)
			}
			out = append(out, ReplicaLog{Node: n.id, Partition: i, Batches: batches, End: p.Log().EndOffset()})
		}
	}
	return out, nil
}

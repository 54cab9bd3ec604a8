package faults

import (
	"errors"
	"fmt"
	"math"
	"slices"

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

// CompareReplicaLogs checks that the replicas of each partition in logs hold the same
// batches — base offset, last offset, partition leader epoch and CRC — below the
// smallest log end among them, and that this end reaches the partition's committed
// offset (the high watermark last seen; 0 if absent): a replica in the ISR holds
// everything committed. Batches past the smallest end are not compared, as a replica may
// hold a tail not copied yet. Pass only the replicas that must agree, such as the last
// ISR's. Every partition is checked; the errors are joined.
func CompareReplicaLogs(logs []ReplicaLog, committed map[int32]int64) error {
	byPartition := map[int32][]ReplicaLog{}
	var order []int32
	for _, rl := range logs {
		if _, seen := byPartition[rl.Partition]; !seen {
			order = append(order, rl.Partition)
		}
		byPartition[rl.Partition] = append(byPartition[rl.Partition], rl)
	}
	var errs []error
	for _, p := range order {
		errs = append(errs, compareReplicas(byPartition[p], committed[p]))
	}
	return errors.Join(errs...)
}

// compareReplicas compares the replicas of one partition.
func compareReplicas(logs []ReplicaLog, committed int64) error {
	end := logs[0].End
	for _, rl := range logs[1:] {
		end = min(end, rl.End)
	}
	if end < committed {
		return fmt.Errorf("partition %d: a replica ends at %d, below the committed offset %d (ends: %v)",
			logs[0].Partition, end, committed, LogEnds(logs))
	}
	want := batchesBelow(logs[0].Batches, end)
	for _, rl := range logs[1:] {
		got := batchesBelow(rl.Batches, end)
		if i, differ := firstDifference(want, got); differ {
			return fmt.Errorf("partition %d: the replicas on nodes %d and %d differ below offset %d at batch %d: %s and %s",
				rl.Partition, logs[0].Node, rl.Node, end, i, batchAt(want, i), batchAt(got, i))
		}
	}
	return nil
}

// batchesBelow keeps the batches that start below end.
func batchesBelow(bs []partition.BatchID, end int64) []partition.BatchID {
	if i := slices.IndexFunc(bs, func(b partition.BatchID) bool { return b.BaseOffset >= end }); i >= 0 {
		return bs[:i]
	}
	return bs
}

func firstDifference(a, b []partition.BatchID) (int, bool) {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i, true
		}
	}
	return min(len(a), len(b)), len(a) != len(b)
}

func batchAt(bs []partition.BatchID, i int) string {
	if i >= len(bs) {
		return "nothing"
	}
	b := bs[i]
	return fmt.Sprintf("[%d..%d epoch %d crc %08x]", b.BaseOffset, b.LastOffset, b.LeaderEpoch, b.CRC)
}

// LogEnds maps each replica's node to its log end offset.
func LogEnds(logs []ReplicaLog) map[int32]int64 {
	ends := map[int32]int64{}
	for _, rl := range logs {
		ends[rl.Node] = rl.End
	}
	return ends
}

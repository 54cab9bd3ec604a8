package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/peer"
)

// PartitionState is one partition as the metadata shows it.
type PartitionState struct {
	Partition   int32
	Leader      int32 // -1 without one
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32 // sorted
}

// InSync reports whether node id is in the ISR.
func (ps PartitionState) InSync(id int32) bool { return slices.Contains(ps.ISR, id) }

// Preferred reports whether the partition is led by its preferred replica.
func (ps PartitionState) Preferred() bool { return ps.Leader == ps.Replicas[0] }

// Agrees reports whether two views of a partition show the same leader, leader epoch and
// ISR: nodes that agree on these have applied the same metadata for it.
func (ps PartitionState) Agrees(o PartitionState) bool {
	return ps.Partition == o.Partition && ps.Leader == o.Leader && ps.LeaderEpoch == o.LeaderEpoch && slices.Equal(ps.ISR, o.ISR)
}

// Partitions asks every running node for topic's metadata and returns its partitions, by
// index, once all of them give the same leader, leader epoch and ISR for every partition;
// otherwise an error says where they differ or what failed.
func (pc *ProcessCluster) Partitions(topic string) ([]PartitionState, error) {
	var agreed []PartitionState
	var from int32
	for _, m := range pc.members {
		if !m.node.Running() {
			continue
		}
		got, err := pc.partitionsOn(m, topic)
		if err != nil {
			return nil, err
		}
		if agreed == nil {
			agreed, from = got, m.id
			continue
		}
		if !slices.EqualFunc(agreed, got, PartitionState.Agrees) {
			return nil, fmt.Errorf("faults: nodes %d and %d disagree on %s: %v and %v", from, m.id, topic, agreed, got)
		}
	}
	if agreed == nil {
		return nil, errors.New("faults: no node is running")
	}
	return agreed, nil
}

// partitionsOn asks one node for topic's metadata.
func (pc *ProcessCluster) partitionsOn(m *processMember, topic string) ([]PartitionState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), processRequestTimeout)
	defer cancel()
	return AskPartitions(ctx, m.peer, m.id, topic)
}

// AskPartitions asks node (reached by p) for topic's partitions as its metadata shows
// them, by index.
func AskPartitions(ctx context.Context, p *peer.Client, node int32, topic string) ([]PartitionState, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := p.Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("faults: metadata from node %d: %w", node, err)
	}
	md := resp.(*kmsg.MetadataResponse)
	if len(md.Topics) != 1 {
		return nil, fmt.Errorf("faults: metadata from node %d: %d topics in the answer", node, len(md.Topics))
	}
	if err := kerr.ErrorForCode(md.Topics[0].ErrorCode); err != nil {
		return nil, fmt.Errorf("faults: metadata of %s from node %d: %w", topic, node, err)
	}
	states := make([]PartitionState, len(md.Topics[0].Partitions))
	for _, mp := range md.Topics[0].Partitions {
		if mp.Partition < 0 || int(mp.Partition) >= len(states) {
			return nil, fmt.Errorf("faults: metadata of %s from node %d: partition %d of %d", topic, node, mp.Partition, len(states))
		}
		isr := slices.Clone(mp.ISR)
		slices.Sort(isr)
		states[mp.Partition] = PartitionState{Partition: mp.Partition, Leader: mp.Leader, LeaderEpoch: mp.LeaderEpoch,
			Replicas: slices.Clone(mp.Replicas), ISR: isr}
	}
	return states, nil
}

// AskController asks node (reached by p) which node is the active controller; -1 when
// it knows none.
func AskController(ctx context.Context, p *peer.Client, node int32) (int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{} // brokers only
	resp, err := p.Request(ctx, req)
	if err != nil {
		return -1, fmt.Errorf("faults: metadata from node %d: %w", node, err)
	}
	return resp.(*kmsg.MetadataResponse).ControllerID, nil
}

// WaitPartitions waits until every running node agrees on topic's partitions (see
// Partitions) and cond holds for them, and returns the partitions cond accepted; after
// timeout it gives up with an error naming what was awaited.
func (pc *ProcessCluster) WaitPartitions(topic string, timeout time.Duration, what string, cond func([]PartitionState) bool) ([]PartitionState, error) {
	var states []PartitionState
	err := waitFor(timeout, what, func() (bool, string) {
		got, err := pc.Partitions(topic)
		if err != nil {
			return false, err.Error()
		}
		if !cond(got) {
			return false, fmt.Sprintf("partitions of %s now: %v", topic, got)
		}
		states = got
		return true, ""
	})
	return states, err
}

// FullyInSync is a WaitPartitions condition: every partition has a running leader and all
// its replicas in the ISR.
func (pc *ProcessCluster) FullyInSync(states []PartitionState) bool {
	for _, s := range states {
		if s.Leader < 0 || !pc.Running(s.Leader) || len(s.ISR) != len(s.Replicas) {
			return false
		}
	}
	return true
}

// Controller asks every running node which node is the controller (the metadata
// quorum's Raft leader) and returns it once they all name the same one.
func (pc *ProcessCluster) Controller() (int32, error) {
	controller := int32(-1)
	for _, m := range pc.members {
		if !m.node.Running() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), processRequestTimeout)
		named, err := AskController(ctx, m.peer, m.id)
		cancel()
		if err != nil {
			return -1, err
		}
		if named < 0 || (controller >= 0 && named != controller) {
			return -1, fmt.Errorf("faults: node %d names controller %d, others %d", m.id, named, controller)
		}
		controller = named
	}
	if controller < 0 {
		return -1, errors.New("faults: no node is running")
	}
	return controller, nil
}

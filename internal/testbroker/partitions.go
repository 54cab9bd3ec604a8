package testbroker

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// WaitForPartitions is ProcessCluster.WaitPartitions for in-process nodes, read from
// their metadata images: it waits until every running node shows each of topic's
// partitions (it must have that many) satisfying ok, the same on every node, and
// returns them by index. It looks every 20 ms and fails the test, saying what, when
// ctx ends first.
func WaitForPartitions(ctx context.Context, t testing.TB, nodes []*Broker, topic string, partitions int, what string, ok func(PartitionState) bool) []PartitionState {
	t.Helper()
	for {
		if states := agreedPartitions(nodes, topic, partitions, ok); states != nil {
			return states
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WaitForISR waits until every running node shows each of topic's partitions with a
// leader and want replicas in sync, the same on every node, and returns them.
func WaitForISR(ctx context.Context, t testing.TB, nodes []*Broker, topic string, partitions, want int) []PartitionState {
	t.Helper()
	return WaitForPartitions(ctx, t, nodes, topic, partitions,
		fmt.Sprintf("every partition of %s has a leader and %d in sync", topic, want),
		func(p PartitionState) bool { return p.Leader >= 0 && len(p.ISR) == want })
}

// agreedPartitions is topic's partitions as every running node shows them, or nil
// until they all show the same ones, each satisfying ok.
func agreedPartitions(nodes []*Broker, topic string, partitions int, ok func(PartitionState) bool) []PartitionState {
	var agreed []PartitionState
	for _, n := range nodes {
		if !n.Running() {
			continue
		}
		mt := n.Image().Topic(topic)
		if mt == nil || len(mt.Partitions) != partitions {
			return nil
		}
		states := make([]PartitionState, partitions)
		for i, p := range mt.Partitions {
			isr := slices.Clone(p.ISR)
			slices.Sort(isr)
			states[i] = PartitionState{Partition: p.Index, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
				Replicas: slices.Clone(p.Replicas), ISR: isr}
			if !ok(states[i]) {
				return nil
			}
		}
		if agreed != nil && !slices.EqualFunc(agreed, states, PartitionState.Agrees) {
			return nil
		}
		agreed = states
	}
	return agreed
}

// RestartPreferredBroker stops a broker of nodes that is not the controller and is the
// first replica (the preferred leader) of at least one of topic's partitions, waits
// until it leads none of them and has left every ISR, and starts it again. It returns
// the broker as soon as it is back: whether it is in sync yet is the caller's to wait
// for.
func RestartPreferredBroker(ctx context.Context, t testing.TB, nodes []*Broker, topic string, partitions int) *Broker {
	t.Helper()
	states := WaitForISR(ctx, t, nodes, topic, partitions, len(nodes))
	var restarted *Broker
	for _, n := range nodes {
		prefers := slices.ContainsFunc(states, func(p PartitionState) bool { return p.Replicas[0] == n.NodeID() })
		if prefers && n.NodeID() != n.Image().ControllerID {
			restarted = n
			break
		}
	}
	if restarted == nil {
		t.Fatalf("no broker but the controller is a first replica of %s: %v", topic, states)
	}
	id := restarted.NodeID()
	t.Logf("controller %d; restarting broker %d", restarted.Image().ControllerID, id)
	restarted.Stop()
	WaitForPartitions(ctx, t, nodes, topic, partitions, fmt.Sprintf("broker %d leads nothing and is in no ISR", id),
		func(p PartitionState) bool { return p.Leader >= 0 && p.Leader != id && !slices.Contains(p.ISR, id) })
	restarted.StartAgain()
	return restarted
}

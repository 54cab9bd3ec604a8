package console

import (
	"fmt"
	"slices"
	"time"
)

// nodeFault is a fault aimed at sandbox nodes: what it does to each, and what the event
// log says (%d: the node). One that takes a while runs in the background, with an event
// when done.
type nodeFault struct {
	act          func(*sandbox, int32) error
	struck, done string
}

var nodeFaults = map[string]nodeFault{
	"kill-leader": {act: (*sandbox).kill, struck: "node %d, leader of partition 0, killed without a controlled shutdown; " +
		"once its heartbeats stop the controller fences it and elects a leader from the ISR; it stays down until restarted"},
	"isolate-leader": {act: (*sandbox).isolate, struck: "node %d, leader of partition 0, cut off from the other nodes and the controller; " +
		"producers still reach it: under acks=1 it acknowledges writes alone, under acks=all they wait for followers that cannot fetch"},
	"slow-follower": {act: (*sandbox).slow, struck: "node %d's replication fetches held back: acks=all writes wait for it " +
		"until the leader drops it from the ISR (replica.lag.time.max.ms=1500); acks=1 writes do not wait"},
	"heal": {act: (*sandbox).heal, struck: "node %d healed: it reaches the other nodes again and follows the leader, " +
		"first truncating what it wrote alone"},
	"restart-node": {act: (*sandbox).start, struck: "restarting node %d on what it had written", done: "node %d is running again"},
}

// clusterFault strikes one of the faults aimed at the sandbox's nodes, chosen from the
// run's partition 0 as it is now. A fault that has nothing to act on (no running leader
// to kill, no node down to restart) is refused with the reason.
func (s *simulator) clusterFault(sess *session, f string, node int32) error {
	if f == "power-loss" {
		s.inBackground(sess, f, 0, "every node lost power at once; each restarts on what it fsynced",
			func() error { return s.sandbox.powerLoss(s.ctx) }, "every node is running again")
		return nil
	}
	nf := nodeFaults[f]
	ids, err := sess.readReplicas().targets(f, node)
	if err != nil {
		return err
	}
	for _, id := range ids {
		struck := fmt.Sprintf(nf.struck, id)
		if nf.done != "" {
			s.inBackground(sess, f, id, struck, func() error { return nf.act(s.sandbox, id) }, fmt.Sprintf(nf.done, id))
			continue
		}
		if err := nf.act(s.sandbox, id); err != nil {
			return err
		}
		sess.nodeFaultEvent(f, "struck", id, struck)
	}
	return nil
}

// targets are the nodes fault f strikes: node if given and fit, or those it picks.
func (v ReplicaView) targets(f string, node int32) ([]int32, error) {
	switch f {
	case "kill-leader", "isolate-leader":
		id, err := v.runningLeader()
		if err == nil && f == "isolate-leader" && v.node(id).Isolated {
			err = badRequest{fmt.Errorf("node %d, leader of partition 0, is cut off already", id)}
		}
		return []int32{id}, err
	case "slow-follower":
		id, err := v.follower(node)
		return []int32{id}, err
	case "heal":
		return v.pick(node, "cut off or slowed", func(n ReplicaNode) bool { return n.Isolated || n.Slow })
	case "restart-node":
		return v.pick(node, "down", func(n ReplicaNode) bool { return !n.Up })
	}
	return nil, badRequest{fmt.Errorf("fault %q is no node's", f)}
}

// inBackground runs a fault that takes a while (a restart), telling when it struck and
// when it was done.
func (s *simulator) inBackground(sess *session, f string, node int32, struck string, run func() error, done string) {
	sess.nodeFaultEvent(f, "struck", node, struck)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		start := time.Now()
		if err := run(); err != nil {
			sess.nodeFaultEvent(f, "done", node, "failed: "+err.Error())
			return
		}
		sess.nodeFaultEvent(f, "done", node, fmt.Sprintf("%s after %s", done, time.Since(start).Round(time.Millisecond)))
	}()
}

// node is node id in the view.
func (v ReplicaView) node(id int32) ReplicaNode {
	for _, n := range v.Nodes {
		if n.ID == id {
			return n
		}
	}
	return ReplicaNode{ID: id}
}

// runningLeader is partition 0's leader, if it runs.
func (v ReplicaView) runningLeader() (int32, error) {
	if v.Leader < 0 || !v.node(v.Leader).Up {
		return 0, badRequest{fmt.Errorf("partition 0 has no running leader now (leader %d)", v.Leader)}
	}
	return v.Leader, nil
}

// follower is the node to slow: id if it is a running follower of partition 0, or with
// id 0 the first running follower in sync and not slowed already.
func (v ReplicaView) follower(id int32) (int32, error) {
	isFollower := func(n ReplicaNode) bool {
		return n.Up && n.ID != v.Leader && slices.Contains(v.Replicas, n.ID)
	}
	if id != 0 {
		if !isFollower(v.node(id)) {
			return 0, badRequest{fmt.Errorf("node %d is not a running follower of partition 0 (replicas %v, leader %d)", id, v.Replicas, v.Leader)}
		}
		return id, nil
	}
	for _, n := range v.Nodes {
		if isFollower(n) && n.InISR && !n.Slow {
			return n.ID, nil
		}
	}
	return 0, badRequest{fmt.Errorf("partition 0 has no running follower in sync to slow (replicas %v, ISR %v, leader %d)", v.Replicas, v.ISR, v.Leader)}
}

// pick is node id if it is as is says, or with id 0 every such node; none is refused.
func (v ReplicaView) pick(id int32, what string, is func(ReplicaNode) bool) ([]int32, error) {
	if id != 0 {
		if !is(v.node(id)) {
			return nil, badRequest{fmt.Errorf("node %d is not %s", id, what)}
		}
		return []int32{id}, nil
	}
	var ids []int32
	for _, n := range v.Nodes {
		if is(n) {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) == 0 {
		return nil, badRequest{fmt.Errorf("no node is %s", what)}
	}
	return ids, nil
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/waybill/waybill/internal/faults"
)

// The bounds of the waits of cluster faults. The lab's clusters fence a silent broker
// after 1.5 s and drop a follower from the ISR after 1.5 s without a fetch
// (LabClusterConfig); these leave ample room on a loaded machine.
const (
	failoverLimit = 20 * time.Second // a new leader, or a new controller
	isrLimit      = 20 * time.Second // a follower out of, or back in, the ISR
	restartLimit  = 30 * time.Second // a restarted node back in every ISR
	// slowDelay holds a slow follower's fetches back for longer than any cell waits for
	// them, until Heal releases them.
	slowDelay = time.Minute
)

// cluster is the cell's target as a cluster the lab controls, or nil.
func (c *cellRun) cluster() *ReplicatedTarget {
	t, _ := c.target.(*ReplicatedTarget)
	return t
}

// leader finds partition p's leader, asking each node in turn until one names a live one.
func (c *cellRun) leader(ctx context.Context, p int32) (faults.PartitionState, error) {
	cl := c.cluster()
	var errs []error
	for _, via := range cl.Nodes() {
		st, err := cl.awaitPartition(ctx, via, c.topic, p, 0, "a leader", func(s faults.PartitionState) bool { return s.Leader >= 0 })
		if err == nil {
			return st, nil
		}
		errs = append(errs, err)
	}
	return faults.PartitionState{}, fmt.Errorf("partition %d of %s has no leader: %w", p, c.topic, errors.Join(errs...))
}

// paceOver spaces the values still to send over about d, so that the workload goes on
// while a fault that takes that long plays out; pacing ends with the fault.
func (c *cellRun) paceOver(d time.Duration) (stop func()) {
	remaining := max(1, c.cfg.Values-c.producer.Confirmed())
	c.producer.Throttle(min(20*time.Millisecond, d/time.Duration(remaining)))
	return func() { c.producer.Throttle(0) }
}

// pacedToThird paces the workload over d (paceOver), starts it and waits until a third of
// the values are confirmed, the moment a fault that plays out over a while strikes; stop
// ends the pacing.
func (c *cellRun) pacedToThird(ctx context.Context, d time.Duration) (stop func(), err error) {
	stop = c.paceOver(d)
	if err = plainRun(ctx, c); err == nil {
		err = atThird(ctx, c)
	}
	return stop, err
}

// atThirdHeld starts the producer, waits until a third of the values are confirmed and
// holds the producer there: the fault strikes between two stretches of the workload.
func (c *cellRun) atThirdHeld(ctx context.Context) error {
	if _, err := c.startProducer(ctx, c.bootstrap); err != nil {
		return err
	}
	if err := atThird(ctx, c); err != nil {
		return err
	}
	c.producer.Hold()
	return nil
}

// leaderKill kills partition 0's leader mid-stream (kill -9 on a process cluster), waits
// until another replica leads, and restarts it.
func leaderKill(ctx context.Context, c *cellRun) error {
	cl := c.cluster()
	stop, err := c.pacedToThird(ctx, 4*time.Second)
	defer stop()
	if err != nil {
		return err
	}
	st, err := c.leader(ctx, 0)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cl.Kill(st.Leader); err != nil {
		return err
	}
	confirmed := c.producer.Confirmed()
	next, err := cl.awaitPartition(ctx, cl.others(st.Leader)[0], c.topic, 0, failoverLimit, "a new leader of partition 0",
		func(s faults.PartitionState) bool { return s.Leader >= 0 && s.Leader != st.Leader })
	if err != nil {
		return err
	}
	took := time.Since(start)
	if err := cl.Start(st.Leader); err != nil {
		return err
	}
	c.note("node %d, leader of partition 0, killed after %d values confirmed; node %d led it %s later; node %d restarted",
		st.Leader, confirmed, next.Leader, took.Round(time.Millisecond), st.Leader)
	return nil
}

// leaderIsolated cuts partition 0's leader off from the other nodes, clients still
// reaching it, lets the workload go on against it until the others have elected a new
// leader, then kills and restarts it, or heals it.
func leaderIsolated(kill bool) func(context.Context, *cellRun) error {
	return func(ctx context.Context, c *cellRun) error {
		cl := c.cluster()
		if err := c.atThirdHeld(ctx); err != nil {
			return err
		}
		st, err := c.leader(ctx, 0)
		if err != nil {
			c.producer.Release()
			return err
		}
		old := st.Leader
		if err := cl.Isolate(old); err != nil {
			c.producer.Release()
			return err
		}
		start := time.Now()
		c.producer.Release()
		next, err := cl.awaitPartition(ctx, cl.others(old)[0], c.topic, 0, failoverLimit, "a new leader of partition 0",
			func(s faults.PartitionState) bool { return s.Leader >= 0 && s.Leader != old })
		if err != nil {
			return err
		}
		took := time.Since(start)
		end := "healed: it truncated what it had alone"
		if kill {
			end = "killed and restarted"
			if err = cl.Kill(old); err == nil {
				err = cl.Start(old)
			}
		} else {
			err = cl.Heal(old)
		}
		if err != nil {
			return err
		}
		c.note("node %d, leader of partition 0, cut off from the other nodes after %d values confirmed; node %d led it %s later; node %d %s",
			old, c.cfg.Values/3, next.Leader, took.Round(time.Millisecond), old, end)
		return nil
	}
}

// followersOf are a partition's replicas but its leader.
func followersOf(s faults.PartitionState) []int32 {
	return slices.DeleteFunc(slices.Clone(s.Replicas), func(id int32) bool { return id == s.Leader })
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/records"
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

// thirds waits until a third of the values are confirmed and holds the producer there:
// the fault strikes between two stretches of the workload.
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
	defer c.paceOver(4 * time.Second)()
	if err := plainRun(ctx, c); err != nil {
		return err
	}
	if err := atThird(ctx, c); err != nil {
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

// slowFollowers holds back n followers of partition 0 until they leave its ISR, lets the
// workload go on meanwhile, then lets them catch up. With two replicas still in sync
// acks=all goes on; with the leader alone it is refused (min.insync.replicas=2), which a
// probe checks, and retried until the followers are back: the fault then lasts a second,
// long enough for the refusals, short beside the delivery timeout.
func slowFollowers(n int) func(context.Context, *cellRun) error {
	return func(ctx context.Context, c *cellRun) error {
		cl := c.cluster()
		if err := c.atThirdHeld(ctx); err != nil {
			return err
		}
		defer c.producer.Release()
		st, err := c.leader(ctx, 0)
		if err != nil {
			return err
		}
		slowed := followersOf(st)[:n]
		start := time.Now()
		for _, f := range slowed {
			if err := cl.Slow(f, slowDelay); err != nil {
				return err
			}
		}
		outOfSync := func(s faults.PartitionState) bool {
			return !slices.ContainsFunc(slowed, s.InSync)
		}
		shrunk, err := cl.awaitPartition(ctx, st.Leader, c.topic, 0, isrLimit, fmt.Sprintf("nodes %v out of the ISR", slowed), outOfSync)
		if err != nil {
			return err
		}
		left := time.Since(start)
		probe := ""
		if len(shrunk.ISR) == 1 {
			probe = "; an acks=all probe there was " + c.probeAcksAll(ctx, st.Leader)
		}
		before := c.producer.Confirmed()
		c.producer.Release()
		if len(shrunk.ISR) > 1 {
			err = c.producer.WaitConfirmed(ctx, 2*c.cfg.Values/3)
		} else {
			waitFor(ctx, time.Second, c.producer.Settled)
		}
		if err != nil {
			return err
		}
		during := c.producer.Confirmed() - before
		healed := time.Now()
		for _, f := range slowed {
			if err := cl.Heal(f); err != nil {
				return err
			}
		}
		if _, err := cl.awaitPartition(ctx, st.Leader, c.topic, 0, isrLimit, fmt.Sprintf("nodes %v back in the ISR", slowed),
			func(s faults.PartitionState) bool { return len(s.ISR) == len(s.Replicas) }); err != nil {
			return err
		}
		c.note("the fetches of nodes %v held back: out of partition 0's ISR after %s, leaving %v%s; %d values confirmed meanwhile; healed, back in %s",
			slowed, left.Round(time.Millisecond), shrunk.ISR, probe, during, time.Since(healed).Round(time.Millisecond))
		return nil
	}
}

// probeAcksAll sends partition 0's leader one acks=all record, once, and says how it
// was answered. The value is no one's: if stored, the checker counts it.
func (c *cellRun) probeAcksAll(ctx context.Context, leader int32) string {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 2000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = c.topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli()},
		[]records.Record{{Value: []byte("probe-" + c.topic)}})
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := c.cluster().peer(leader).Request(ctx, req)
	if err != nil {
		return "not answered: " + err.Error()
	}
	pr := resp.(*kmsg.ProduceResponse)
	if len(pr.Topics) != 1 || len(pr.Topics[0].Partitions) != 1 {
		return "answered malformed"
	}
	switch err := kerr.ErrorForCode(pr.Topics[0].Partitions[0].ErrorCode); {
	case err == nil:
		return "ACCEPTED (min.insync.replicas not enforced)"
	case errors.Is(err, kerr.NotEnoughReplicas):
		return "refused with NOT_ENOUGH_REPLICAS"
	default:
		return "answered " + err.Error()
	}
}

// controllerKill kills the active controller while a topic is being created and values
// produced, and checks that the topic is created and known to every node once the
// killed node is back.
func controllerKill(ctx context.Context, c *cellRun) error {
	cl := c.cluster()
	defer c.paceOver(4 * time.Second)()
	if err := plainRun(ctx, c); err != nil {
		return err
	}
	if err := atThird(ctx, c); err != nil {
		return err
	}
	ctrl, err := cl.controller(ctx, cl.Nodes()[0])
	if err != nil {
		return err
	}
	created := c.topic + "-created"
	start := time.Now()
	createErr := make(chan error, 1)
	go func() {
		createErr <- createTopicRetrying(ctx, cl.Bootstrap(), created, c.cfg.Partitions, failoverLimit)
	}()
	if err := cl.Kill(ctrl); err != nil {
		return err
	}
	var next int32
	if err := await(ctx, failoverLimit, "a new controller", func() error {
		id, err := cl.controller(ctx, cl.others(ctrl)[0])
		if err == nil && (id < 0 || id == ctrl) {
			err = fmt.Errorf("the controller is %d", id)
		}
		next = id
		return err
	}); err != nil {
		return err
	}
	took := time.Since(start)
	// Back at once: with a node fenced, a replication factor of 3 cannot be placed, and
	// the creation is retried until it can.
	if err := cl.Start(ctrl); err != nil {
		return err
	}
	if err := <-createErr; err != nil {
		return err
	}
	createdIn := time.Since(start)
	for _, id := range cl.Nodes() {
		if _, err := cl.awaitPartition(ctx, id, created, 0, restartLimit, fmt.Sprintf("node %d knowing %s", id, created),
			func(s faults.PartitionState) bool { return s.Leader >= 0 }); err != nil {
			return err
		}
	}
	c.note("controller node %d killed while topic %s was being created; node %d took over after %s; node %d restarted; the topic was created within %s and every node knows it",
		ctrl, created, next, took.Round(time.Millisecond), ctrl, createdIn.Round(time.Millisecond))
	return nil
}

// createTopicRetrying creates topic with the cluster's default replication, retrying
// what a controller change makes retriable, within limit; each attempt with a new client,
// whose first metadata names the controller of the moment. A topic already there counts:
// an earlier attempt may have created it without its answer arriving.
func createTopicRetrying(ctx context.Context, bootstrap, topic string, partitions int32, limit time.Duration) error {
	return await(ctx, limit, "creating "+topic, func() error {
		err := createTopic(ctx, bootstrap, topic, partitions, nil, nil)
		if errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		return err
	})
}

// rollingRestart stops every node in turn by SIGTERM and restarts it, each back in every
// ISR of the cell's topic before the next, while the workload goes on.
func rollingRestart(ctx context.Context, c *cellRun) error {
	cl := c.cluster()
	defer c.paceOver(time.Duration(len(cl.Nodes())) * 3 * time.Second)()
	if err := plainRun(ctx, c); err != nil {
		return err
	}
	if err := atThird(ctx, c); err != nil {
		return err
	}
	var took []string
	for _, id := range cl.Nodes() {
		start := time.Now()
		if err := cl.Stop(id); err != nil {
			return err
		}
		if err := cl.Start(id); err != nil {
			return err
		}
		if err := cl.awaitAllInSync(ctx, id, c.topic, restartLimit); err != nil {
			return err
		}
		took = append(took, fmt.Sprintf("node %d %s", id, time.Since(start).Round(time.Millisecond)))
	}
	c.note("each node stopped by SIGTERM, restarted and back in every ISR in turn: %s", strings.Join(took, ", "))
	return nil
}

// uncleanElection runs on a topic placed on nodes 2, 3 and 1 with node 1 the only voter
// of the metadata quorum. Node 1 is held back until it leaves every ISR; the workload
// goes on with 2 and 3 in sync; both die, and the controller elects node 1, which lacks
// what they had, as unclean.leader.election.enable allows.
func uncleanElection(ctx context.Context, c *cellRun) error {
	cl := c.cluster()
	if err := c.atThirdHeld(ctx); err != nil {
		return err
	}
	defer c.producer.Release()
	const behind = 1
	if err := cl.Slow(behind, slowDelay); err != nil {
		return err
	}
	for p := range c.cfg.Partitions {
		if _, err := cl.awaitPartition(ctx, 2, c.topic, p, isrLimit, fmt.Sprintf("node %d out of partition %d's ISR", behind, p),
			func(s faults.PartitionState) bool { return !s.InSync(behind) }); err != nil {
			return err
		}
	}
	before := c.producer.Confirmed()
	c.producer.Release()
	if err := c.producer.WaitConfirmed(ctx, 2*c.cfg.Values/3); err != nil {
		return err
	}
	c.producer.Hold()
	alone := c.producer.Confirmed() - before
	for _, id := range []int32{2, 3} {
		if err := cl.Kill(id); err != nil {
			return err
		}
	}
	if err := cl.Heal(behind); err != nil {
		return err
	}
	start := time.Now()
	for p := range c.cfg.Partitions {
		if _, err := cl.awaitPartition(ctx, behind, c.topic, p, failoverLimit, fmt.Sprintf("node %d leading partition %d", behind, p),
			func(s faults.PartitionState) bool { return s.Leader == behind }); err != nil {
			return err
		}
	}
	took := time.Since(start)
	for _, id := range []int32{2, 3} {
		if err := cl.Start(id); err != nil {
			return err
		}
	}
	c.note("node %d held back out of the ISR; %d values confirmed by nodes 2 and 3 alone; both killed; node %d elected unclean after %s; 2 and 3 restarted",
		behind, alone, behind, took.Round(time.Millisecond))
	return nil
}

// followersOf are a partition's replicas but its leader.
func followersOf(s faults.PartitionState) []int32 {
	return slices.DeleteFunc(slices.Clone(s.Replicas), func(id int32) bool { return id == s.Leader })
}

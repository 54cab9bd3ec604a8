package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/records"
)

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

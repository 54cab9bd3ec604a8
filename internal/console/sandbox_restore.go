package console

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/partition"
)

const (
	// slowDelay holds a slowed follower's fetches back for longer than anyone watches,
	// so that it leaves the ISR, until Heal releases them.
	slowDelay = time.Minute
	// restoreLimit bounds the wait for every node to be registered and unfenced again.
	restoreLimit = 30 * time.Second
)

// restore brings every node back up and healed, then waits until every node's metadata
// shows all of them registered and unfenced, so that a fresh run can place a replica on
// each. It returns what it had to undo.
func (s *sandbox) restore(ctx context.Context) ([]string, error) {
	t, err := s.get()
	if err != nil {
		return nil, err
	}
	flags := s.nodeFlags()
	var did []string
	for _, id := range t.Nodes() {
		f := flags[id]
		switch {
		case f.Down:
			err = s.start(id)
			did = append(did, fmt.Sprintf("node %d restarted", id))
		case f.Isolated || f.Slow:
			err = s.heal(id)
			did = append(did, fmt.Sprintf("node %d healed", id))
		}
		if err != nil {
			return did, err
		}
	}
	return did, awaitUnfenced(ctx, t.Cluster(), restoreLimit)
}

// wake restarts the nodes a fault left down, without waiting for the cluster to take
// them back, for clients that are about to end.
func (s *sandbox) wake() {
	t := s.running()
	if t == nil {
		return
	}
	for id, f := range s.nodeFlags() {
		if f.Down {
			if err := s.start(id); err != nil {
				s.log.Debug("console: restarting a sandbox node", "node", id, "err", err)
			}
		}
	}
}

// awaitUnfenced waits, within limit, until every node runs and its image shows every
// node registered and unfenced.
func awaitUnfenced(ctx context.Context, c *faults.Cluster, limit time.Duration) error {
	return awaitNodes(ctx, limit, "the sandbox nodes up and unfenced", func() []string { return unfencedMissing(c) })
}

// awaitReplicas waits, within limit, until every replica of topic's partitions exists on
// its node and each leader knows it leads: a Produce that reaches a leader before would
// be refused as for an unknown partition.
func awaitReplicas(ctx context.Context, c *faults.Cluster, topic string, limit time.Duration) error {
	return awaitNodes(ctx, limit, "the replicas of "+topic, func() []string { return replicasMissing(c, topic) })
}

// awaitNodes calls missing every 20 ms until it finds nothing missing, within limit.
func awaitNodes(ctx context.Context, limit time.Duration, what string, missing func() []string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		m := missing()
		if len(m) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %v: %v", what, limit, m)
		case <-tick.C:
		}
	}
}

// replicasMissing says which replicas of topic are not there yet, by the newest image.
func replicasMissing(c *faults.Cluster, topic string) []string {
	img := newestImage(c)
	if img == nil || img.Topics[topic] == nil {
		return []string{"the topic in the metadata"}
	}
	var missing []string
	for _, p := range img.Topics[topic].Partitions {
		for _, id := range p.Replicas {
			b := c.Node(id).Broker()
			var r *partition.Partition
			if b != nil {
				r = b.Replica(topic, p.Index)
			}
			switch {
			case r == nil:
				missing = append(missing, fmt.Sprintf("partition %d on node %d", p.Index, id))
			case id == p.Leader && r.Leadership().Leader != id:
				missing = append(missing, fmt.Sprintf("partition %d led by node %d", p.Index, id))
			}
		}
	}
	return missing
}

// unfencedMissing says, per node, what it lacks: running, or seeing the others unfenced.
func unfencedMissing(c *faults.Cluster) []string {
	var missing []string
	for _, n := range c.Nodes() {
		b := n.Broker()
		if b == nil {
			missing = append(missing, fmt.Sprintf("node %d down", n.ID()))
			continue
		}
		img := b.Image()
		var fenced []int32
		for _, m := range c.Nodes() {
			if br, ok := img.Brokers[m.ID()]; !ok || br.Fenced {
				fenced = append(fenced, m.ID())
			}
		}
		if len(fenced) > 0 {
			slices.Sort(fenced)
			missing = append(missing, fmt.Sprintf("node %d sees %v fenced", n.ID(), fenced))
		}
	}
	return missing
}

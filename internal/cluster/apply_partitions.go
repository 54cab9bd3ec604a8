package cluster

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// alterPartitionCmd is a leader's ISR change (Kafka's AlterPartition, KIP-497): the
// leader proposes the whole new ISR for the partition epoch it last saw, and the change
// takes effect only once committed here. A leader whose view is stale (another ISR
// change, a new leader) is refused and learns the current state from the metadata.
type alterPartitionCmd struct {
	BrokerID       int32   `json:"brokerId"`
	BrokerEpoch    int64   `json:"brokerEpoch"`
	TopicID        UUID    `json:"topicId"`
	Partition      int32   `json:"partition"`
	LeaderEpoch    int32   `json:"leaderEpoch"`
	PartitionEpoch int32   `json:"partitionEpoch"`
	ISR            []int32 `json:"isr"`
	// ISREpochs are the broker epochs the leader saw in each member's fetches (KIP-903),
	// beside ISR; -1 where unknown. A member that joins with an epoch other than its
	// registration's is a stale incarnation and is refused.
	ISREpochs []int64 `json:"isrEpochs,omitempty"`
}

// electLeaderCmd asks for a leader election on one partition: preferred (move
// leadership back to the first replica when it is in sync and eligible, as
// auto.leader.rebalance.enable and ElectLeaders do) or unclean (an offline partition
// with no eligible ISR member takes any eligible replica). The proposer decides that
// the topic allows an unclean election (its config) and says so here.
type electLeaderCmd struct {
	TopicID   UUID  `json:"topicId"`
	Partition int32 `json:"partition"`
	Unclean   bool  `json:"unclean,omitempty"`
}

// partitionOf finds a partition, or the error for a missing one.
func partitionOf(img *Image, id UUID, index int32) (*Topic, Partition, error) {
	t := img.TopicsByID[id]
	if t == nil {
		return nil, Partition{}, errorf(kerr.UnknownTopicID, "no topic has id %s", id)
	}
	if index < 0 || int(index) >= len(t.Partitions) {
		return nil, Partition{}, errorf(kerr.UnknownTopicOrPartition, "topic %s has no partition %d", t.Name, index)
	}
	return t, t.Partitions[index], nil
}

// withPartition returns next with one partition of t replaced.
func (next *Image) withPartition(t *Topic, p Partition) {
	updated := *t
	updated.Partitions = slices.Clone(t.Partitions)
	updated.Partitions[p.Index] = p
	next.putTopic(&updated)
}

func applyAlterPartition(img *Image, index uint64, c *alterPartitionCmd) (*Image, applyResult) {
	t, p, err := partitionOf(img, c.TopicID, c.Partition)
	if err != nil {
		return nil, applyResult{err: err}
	}
	if _, err := brokerAt(img, c.BrokerID, c.BrokerEpoch); err != nil {
		return nil, applyResult{err: err}
	}
	switch {
	case p.Leader != c.BrokerID:
		return nil, applyResult{err: errorf(kerr.NotLeaderForPartition, "broker %d does not lead %s-%d (leader %d)", c.BrokerID, t.Name, p.Index, p.Leader)}
	case c.LeaderEpoch != p.LeaderEpoch:
		return nil, applyResult{err: errorf(kerr.FencedLeaderEpoch, "%s-%d is at leader epoch %d, not %d", t.Name, p.Index, p.LeaderEpoch, c.LeaderEpoch)}
	case c.PartitionEpoch != p.PartitionEpoch:
		return nil, applyResult{err: errorf(kerr.InvalidUpdateVersion, "%s-%d is at partition epoch %d, not %d", t.Name, p.Index, p.PartitionEpoch, c.PartitionEpoch)}
	case !slices.Contains(c.ISR, p.Leader):
		return nil, applyResult{err: errorf(kerr.InvalidRequest, "the ISR %v of %s-%d leaves out its leader %d", c.ISR, t.Name, p.Index, p.Leader)}
	}
	isr := slices.Clone(c.ISR)
	slices.Sort(isr)
	if len(slices.Compact(isr)) != len(c.ISR) {
		return nil, applyResult{err: errorf(kerr.InvalidRequest, "the ISR %v of %s-%d names a replica twice", c.ISR, t.Name, p.Index)}
	}
	for i, r := range c.ISR {
		if !slices.Contains(p.Replicas, r) {
			return nil, applyResult{err: errorf(kerr.InvalidRequest, "broker %d is not a replica of %s-%d", r, t.Name, p.Index)}
		}
		if slices.Contains(p.ISR, r) {
			continue
		}
		if !img.eligible(r) {
			return nil, applyResult{err: errorf(kerr.IneligibleReplica, "broker %d cannot join the ISR of %s-%d: it is fenced or shutting down", r, t.Name, p.Index)}
		}
		if i < len(c.ISREpochs) && c.ISREpochs[i] != -1 && c.ISREpochs[i] != img.Brokers[r].Epoch {
			return nil, applyResult{err: errorf(kerr.IneligibleReplica, "broker %d cannot join the ISR of %s-%d: its fetches came from epoch %d, it is registered with %d",
				r, t.Name, p.Index, c.ISREpochs[i], img.Brokers[r].Epoch)}
		}
	}
	q := p
	q.ISR = slices.Clone(c.ISR)
	q.PartitionEpoch++
	next := img.withChanges(index)
	next.withPartition(t, q)
	return next, applyResult{}
}

func applyElectLeader(img *Image, index uint64, c *electLeaderCmd) (*Image, applyResult) {
	t, p, err := partitionOf(img, c.TopicID, c.Partition)
	if err != nil {
		return nil, applyResult{err: err}
	}
	q, err := img.election(t, p, c.Unclean)
	if err != nil {
		return nil, applyResult{err: err}
	}
	next := img.withChanges(index)
	next.withPartition(t, q)
	return next, applyResult{}
}

// election is p of topic t after an election of the kind asked, or the Kafka error that
// refuses it: ElectionNotNeeded, PreferredLeaderNotAvailable or
// EligibleLeadersNotAvailable. Apply decides with it, and the controller asks it first
// so that it proposes no election the log would refuse.
func (img *Image) election(t *Topic, p Partition, unclean bool) (Partition, error) {
	if unclean {
		if p.Leader != -1 || img.electFromISR(p, p.ISR) != -1 {
			return p, errorf(kerr.ElectionNotNeeded, "%s-%d has a leader or an in-sync replica that can lead", t.Name, p.Index)
		}
		leader := img.electUnclean(p)
		if leader == -1 {
			return p, errorf(kerr.EligibleLeadersNotAvailable, "no replica of %s-%d is alive", t.Name, p.Index)
		}
		return withLeader(p, leader, []int32{leader}), nil
	}
	preferred := p.Replicas[0]
	if p.Leader == preferred {
		return p, errorf(kerr.ElectionNotNeeded, "%s-%d is led by its preferred replica %d", t.Name, p.Index, preferred)
	}
	if !slices.Contains(p.ISR, preferred) || !img.eligible(preferred) {
		return p, errorf(kerr.PreferredLeaderNotAvailable, "the preferred replica %d of %s-%d is not in sync or not alive", preferred, t.Name, p.Index)
	}
	return withLeader(p, preferred, p.ISR), nil
}

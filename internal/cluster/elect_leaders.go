package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Leader elections asked for by an operator (ElectLeaders, kafka-leader-election.sh,
// `waybill cluster elect-leaders`): preferred, to move leadership back to each
// partition's first replica once it is in sync again (after a rolling restart leadership
// piles up on the brokers that stayed up), or unclean, to bring back a partition whose
// in-sync replicas are all gone by electing an out-of-sync one. An unclean election asked
// for this way does not look at the topic's unclean.leader.election.enable, as in Kafka:
// asking is the operator's consent to lose what the old ISR had beyond the new leader's
// log. Like the topic changes, any broker takes the request and the controller makes it
// (forward.go).

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// ElectionResult is one partition's outcome of ElectLeaders: Err is nil when the
// partition got the leader asked for.
type ElectionResult struct {
	TopicPartition
	Err error
}

// ElectLeaders elects leaders for partitions, or for every partition when partitions
// is nil; unclean asks for unclean elections, else preferred ones. It returns once this
// node's image shows the new leaders. Results follow partitions' order; for every
// partition they are sorted by topic and partition and leave out those that need no
// election, as Kafka's answer does.
//
// Per-partition errors: ElectionNotNeeded (the preferred replica leads; for unclean, the
// partition has a leader or an in-sync replica that can lead), PreferredLeaderNotAvailable
// (the preferred replica is out of sync, fenced or shutting down),
// EligibleLeadersNotAvailable (unclean: no replica is alive), UnknownTopicOrPartition.
// The call itself fails only with RequestTimedOut, whose outcome is unknown, or an
// unexpected answer from the controller.
func (n *Node) ElectLeaders(ctx context.Context, unclean bool, partitions []TopicPartition) ([]ElectionResult, error) {
	img := n.Image()
	// Partitions this node does not know are answered here, as the topic changes are;
	// the rest go to the controller. nil (every partition) stays nil.
	var known []TopicPartition
	unknown := map[TopicPartition]error{}
	if partitions != nil {
		known = []TopicPartition{}
		for _, tp := range partitions {
			if _, _, err := partitionNamed(img, tp); err != nil {
				unknown[tp] = err
				continue
			}
			known = append(known, tp)
		}
		if len(known) == 0 {
			return resultsInOrder(partitions, unknown, nil)
		}
	}
	marks := leaderMarks(img, known)
	var answered []ElectionResult
	fromController := false
	err := n.carryOut(ctx, change{
		what: "electing leaders",
		atController: func(ctx context.Context) (err error) {
			answered, err = n.Controller().ElectLeaders(ctx, unclean, known)
			return err
		},
		request: func() kmsg.Request {
			return electLeadersRequest(unclean, known, timeoutMillis(ctx, n.cfg.ProposeTimeout))
		},
		shown: func(resp kmsg.Response, img *Image) bool {
			if !fromController {
				answered, fromController = electionAnswers(resp.(*kmsg.ElectLeadersResponse)), true
			}
			return electionsShown(img, answered, marks, unclean)
		},
	})
	if err != nil {
		return nil, err
	}
	if partitions == nil {
		return answered, nil
	}
	return resultsInOrder(partitions, unknown, answered)
}

// ElectLeaders is Node.ElectLeaders on the controller: it validates against this
// node's image, proposes the elections that image allows (Apply decides again, on the
// image they meet) and returns once they are applied here.
func (c Controller) ElectLeaders(ctx context.Context, unclean bool, partitions []TopicPartition) ([]ElectionResult, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	img := c.n.Image()
	all := partitions == nil
	if all {
		partitions = img.allPartitions()
	}
	results := make([]ElectionResult, len(partitions))
	var elections []electLeaderCmd
	var at []int // results index of each election
	for i, tp := range partitions {
		results[i].TopicPartition = tp
		t, p, err := partitionNamed(img, tp)
		if err == nil {
			_, err = img.election(t, p, unclean)
		}
		if err != nil {
			results[i].Err = err
			continue
		}
		elections = append(elections, electLeaderCmd{TopicID: t.ID, Partition: p.Index, Unclean: unclean})
		at = append(at, i)
	}
	for j, err := range c.n.proposeElections(ctx, elections) {
		if errors.Is(err, kerr.NotController) {
			// Leadership moved mid-way: the sender asks the next controller, where what
			// was elected here already answers ElectionNotNeeded.
			return nil, err
		}
		tp := partitions[at[j]]
		results[at[j]].Err = byName(tp.Topic, err)
		if err == nil && unclean {
			c.n.warnUnclean(img, elections[j])
		}
	}
	if all {
		// Kafka leaves the partitions that already have the leader asked for out of an
		// answer for every partition, which would otherwise list the whole cluster.
		results = slices.DeleteFunc(results, func(r ElectionResult) bool { return errors.Is(r.Err, kerr.ElectionNotNeeded) })
	}
	return results, nil
}

// warnUnclean logs an unclean election made, with what the partition was before it.
func (n *Node) warnUnclean(before *Image, c electLeaderCmd) {
	t := before.TopicByID(c.TopicID)
	old := t.Partitions[c.Partition]
	leader := int32(-1)
	if now := n.Image().TopicByID(c.TopicID); now != nil && int(c.Partition) < len(now.Partitions) {
		leader = now.Partitions[c.Partition].Leader
	}
	n.logger.Warn("unclean leader election asked for: an out-of-sync replica leads; records the old ISR had beyond its log may be lost",
		"topic", t.Name, "partition", c.Partition, "leader", leader, "old_isr", old.ISR, "old_leader_epoch", old.LeaderEpoch)
}

// electionsInFlight bounds the elections proposed at once: enough for raft to gather
// many into one append (and one fsync) after a rolling restart, few enough that the
// heartbeats and ISR changes queued behind them still get through.
const electionsInFlight = 32

// proposeElections proposes each election, electionsInFlight at a time, and returns
// each one's error, in order.
func (n *Node) proposeElections(ctx context.Context, elections []electLeaderCmd) []error {
	errs := make([]error, len(elections))
	slots := make(chan struct{}, electionsInFlight)
	var wg sync.WaitGroup
	for i := range elections {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			_, errs[i] = n.propose(ctx, command{ElectLeader: &elections[i]})
		}()
	}
	wg.Wait()
	return errs
}

// partitionNamed looks a partition up by topic name and index.
func partitionNamed(img *Image, tp TopicPartition) (*Topic, Partition, error) {
	t := img.Topics[tp.Topic]
	if t == nil {
		return nil, Partition{}, errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", tp.Topic)
	}
	if tp.Partition < 0 || int(tp.Partition) >= len(t.Partitions) {
		return nil, Partition{}, errorf(kerr.UnknownTopicOrPartition, "topic %s has no partition %d", tp.Topic, tp.Partition)
	}
	return t, t.Partitions[tp.Partition], nil
}

// allPartitions is every partition of the image, by topic name and index.
func (img *Image) allPartitions() []TopicPartition {
	var out []TopicPartition
	for _, name := range img.TopicNames() {
		for i := range img.Topics[name].Partitions {
			out = append(out, TopicPartition{Topic: name, Partition: int32(i)})
		}
	}
	return out
}

// leaderMark is a partition as this node saw it before asking for its election.
type leaderMark struct {
	topicID     UUID
	leaderEpoch int32
}

// leaderMarks notes the topic id and leader epoch of partitions (every one for nil).
func leaderMarks(img *Image, partitions []TopicPartition) map[TopicPartition]leaderMark {
	if partitions == nil {
		partitions = img.allPartitions()
	}
	marks := make(map[TopicPartition]leaderMark, len(partitions))
	for _, tp := range partitions {
		if t, p, err := partitionNamed(img, tp); err == nil {
			marks[tp] = leaderMark{topicID: t.ID, leaderEpoch: p.LeaderEpoch}
		}
	}
	return marks
}

// electionsShown reports whether img shows every election the controller made: a
// later leader epoch than this node saw before asking, with the leader asked for. The
// leader matters: a node that lagged behind the controller may first show an earlier
// leader change than the election.
func electionsShown(img *Image, results []ElectionResult, marks map[TopicPartition]leaderMark, unclean bool) bool {
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		mark, marked := marks[r.TopicPartition]
		t := img.Topics[r.Topic]
		if t == nil || (marked && t.ID != mark.topicID) {
			if marked {
				continue // deleted since: nothing of it is left to show
			}
			return false // created after this node asked, and not here yet
		}
		if int(r.Partition) >= len(t.Partitions) {
			return false
		}
		p := t.Partitions[r.Partition]
		if marked && p.LeaderEpoch <= mark.leaderEpoch {
			return false
		}
		if unclean && p.Leader == -1 || !unclean && p.Leader != p.Replicas[0] {
			return false
		}
	}
	return true
}

// resultsInOrder answers partitions in their order from the errors found here and
// the controller's answers.
func resultsInOrder(partitions []TopicPartition, unknown map[TopicPartition]error, answered []ElectionResult) ([]ElectionResult, error) {
	byPartition := make(map[TopicPartition]error, len(answered))
	for _, r := range answered {
		byPartition[r.TopicPartition] = r.Err
	}
	results := make([]ElectionResult, len(partitions))
	for i, tp := range partitions {
		err, ok := unknown[tp]
		if !ok {
			if err, ok = byPartition[tp]; !ok {
				return nil, fmt.Errorf("cluster: the controller's election answer leaves out %s", tp)
			}
		}
		results[i] = ElectionResult{TopicPartition: tp, Err: err}
	}
	return results, nil
}

// electLeadersRequest is Kafka's ElectLeaders for partitions, nil meaning all.
func electLeadersRequest(unclean bool, partitions []TopicPartition, timeoutMillis int32) *kmsg.ElectLeadersRequest {
	req := kmsg.NewPtrElectLeadersRequest()
	req.TimeoutMillis = timeoutMillis
	if unclean {
		req.ElectionType = 1
	}
	if partitions == nil {
		return req // null: every partition
	}
	req.Topics = []kmsg.ElectLeadersRequestTopic{}
	index := map[string]int{}
	for _, tp := range partitions {
		i, ok := index[tp.Topic]
		if !ok {
			i = len(req.Topics)
			index[tp.Topic] = i
			rt := kmsg.NewElectLeadersRequestTopic()
			rt.Topic = tp.Topic
			req.Topics = append(req.Topics, rt)
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.Partition)
	}
	return req
}

// electionAnswers reads the controller's per-partition answers.
func electionAnswers(resp *kmsg.ElectLeadersResponse) []ElectionResult {
	var results []ElectionResult
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			results = append(results, ElectionResult{
				TopicPartition: TopicPartition{Topic: t.Topic, Partition: p.Partition},
				Err:            answerError(p.ErrorCode, p.ErrorMessage),
			})
		}
	}
	return results
}

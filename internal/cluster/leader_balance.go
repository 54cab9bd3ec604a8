package cluster

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Leader balancing (auto.leader.rebalance.enable): a broker that stops hands its
// leaderships to the other in-sync replicas, and nothing moves them back when it
// returns, so after a rolling restart the brokers restarted last lead little and the
// others most. While it leads, the controller checks every
// leader.imbalance.check.interval.seconds how leadership is spread: per broker, the
// share of the partitions whose preferred replica (the first in the assignment) it is
// but which another broker leads; above leader.imbalance.per.broker.percentage it
// proposes preferred elections for those whose preferred replica can lead now (in the
// ISR, unfenced, not shutting down). It measures even with auto.leader.rebalance.enable
// false, for the metrics, and then elects nothing.

// LeaderBalanceStats is what this node's leader balancing has done while it was the
// controller.
type LeaderBalanceStats struct {
	// Checks counts the imbalance checks, finished, since this node started.
	Checks uint64
	// Imbalanced is how many partitions its preferred replica did not lead at the last
	// check (Kafka's PreferredReplicaImbalanceCount); 0 when this node is not the
	// controller.
	Imbalanced int64
	// Electable is how many of those the last check found it should move back: their
	// preferred replica's broker is above leader.imbalance.per.broker.percentage, and
	// the replica is in sync and alive. The check elects them when
	// auto.leader.rebalance.enable is true; else they wait for ElectLeaders.
	Electable int64
	// Elections counts the preferred elections the checks made.
	Elections uint64
}

// leaderBalance holds LeaderBalanceStats as the balancing loop updates them.
type leaderBalance struct {
	checks, elections     atomic.Uint64
	imbalanced, electable atomic.Int64
}

// LeaderBalanceStats returns the counts of this node's leader balancing.
func (n *Node) LeaderBalanceStats() LeaderBalanceStats {
	return LeaderBalanceStats{
		Checks:     n.balance.checks.Load(),
		Imbalanced: n.balance.imbalanced.Load(),
		Electable:  n.balance.electable.Load(),
		Elections:  n.balance.elections.Load(),
	}
}

// balanceLeaders checks the leader balance every check interval until stop closes,
// when this node stops being the controller.
func (n *Node) balanceLeaders(stop <-chan struct{}) {
	secs := min(n.cfg.Defaults.LeaderImbalanceCheckIntervalSecs, int64(math.MaxInt64/time.Second))
	ticker := time.NewTicker(time.Duration(secs) * time.Second)
	defer ticker.Stop()
	// Elections under way end with the term: another controller decides from then on.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer func() { // the next controller's counts are the ones that count
		n.balance.imbalanced.Store(0)
		n.balance.electable.Store(0)
	}()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		n.checkLeaderBalance(ctx)
	}
}

// checkLeaderBalance is one check: measure, and elect when enabled.
func (n *Node) checkLeaderBalance(ctx context.Context) {
	cfg := n.cfg.Defaults
	imbalanced, elections := leaderImbalance(n.Image(), cfg.LeaderImbalancePerBrokerPercent)
	n.balance.imbalanced.Store(int64(imbalanced))
	n.balance.electable.Store(int64(len(elections)))
	defer n.balance.checks.Add(1) // after the elections, so that a check counted is a check done
	if !cfg.AutoLeaderRebalanceEnable || len(elections) == 0 {
		return
	}
	n.logger.Info("leader imbalance above leader.imbalance.per.broker.percentage: moving leadership back to preferred replicas",
		"imbalanced", imbalanced, "elections", len(elections))
	elected := 0
	for i, err := range n.proposeElections(ctx, elections) {
		switch {
		case err == nil:
			elected++
		case errors.Is(err, kerr.NotController), ctx.Err() != nil:
			// The term ended; the next controller checks for itself.
		case errors.Is(err, kerr.ElectionNotNeeded), errors.Is(err, kerr.PreferredLeaderNotAvailable),
			errors.Is(err, kerr.UnknownTopicID):
			// The partition changed since the check (its preferred replica leads again,
			// left the ISR, or the topic is gone): nothing to do until the next check.
		default:
			n.logger.Warn("preferred leader election failed", "topic_id", elections[i].TopicID, "partition", elections[i].Partition, "err", err)
		}
	}
	n.balance.elections.Add(uint64(elected))
	n.logger.Info("preferred leaders elected", "elected", elected, "asked", len(elections))
}

// leaderImbalance is the check on img: how many partitions their preferred replica
// does not lead, and the preferred elections to make for the brokers above percent,
// where the preferred replica can lead now, in topic name and partition order so that
// every check proposes the same elections the same way.
func leaderImbalance(img *Image, percent int32) (imbalanced int, elections []electLeaderCmd) {
	preferred := map[int32]int64{} // by broker: partitions whose first replica it is
	notLed := map[int32]int64{}    // of those, the ones another broker (or none) leads
	for _, t := range img.Topics {
		for _, p := range t.Partitions {
			preferred[p.Replicas[0]]++
			if p.Leader != p.Replicas[0] {
				notLed[p.Replicas[0]]++
				imbalanced++
			}
		}
	}
	for _, name := range img.TopicNames() {
		t := img.Topics[name]
		for _, p := range t.Partitions {
			first := p.Replicas[0]
			// Kafka's ratio, in integers: more than percent of the broker's partitions.
			above := notLed[first]*100 > int64(percent)*preferred[first]
			if above && p.Leader != first && slices.Contains(p.ISR, first) && img.eligible(first) {
				elections = append(elections, electLeaderCmd{TopicID: t.ID, Partition: p.Index})
			}
		}
	}
	return imbalanced, elections
}

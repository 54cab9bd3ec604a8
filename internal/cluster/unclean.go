package cluster

import (
	"context"

	"github.com/waybill/waybill/internal/config"
)

// electUncleanLeaders gives a leader to every offline partition whose topic allows an
// unclean election (unclean.leader.election.enable, the topic's or the broker default)
// and that has no ISR member left to lead, from its live out-of-sync replicas. What the
// old ISR had beyond the new leader's log is lost, so each election is logged as a
// possible data loss. The controller runs it with its session sweeps.
func (n *Node) electUncleanLeaders(ctx context.Context) {
	img := n.Image()
	for _, t := range img.Topics {
		var allowed *bool
		for _, p := range t.Partitions {
			if p.Leader != -1 || img.electFromISR(p, p.ISR) != -1 || img.electUnclean(p) == -1 {
				continue
			}
			if allowed == nil {
				cfg, err := config.ParseTopic(t.Configs, n.cfg.Defaults)
				ok := err == nil && cfg.UncleanLeaderElectionEnable
				allowed = &ok
			}
			if !*allowed {
				continue
			}
			if _, err := n.propose(ctx, command{ElectLeader: &electLeaderCmd{TopicID: t.ID, Partition: p.Index, Unclean: true}}); err != nil {
				n.logger.Warn("unclean leader election failed", "topic", t.Name, "partition", p.Index, "err", err)
				continue
			}
			q := n.Image().TopicByID(t.ID)
			if q != nil && int(p.Index) < len(q.Partitions) {
				n.logger.Warn("unclean leader election: an out-of-sync replica leads; records the old ISR had beyond its log are lost",
					"topic", t.Name, "partition", p.Index, "leader", q.Partitions[p.Index].Leader, "old_isr", p.ISR)
			}
		}
	}
}

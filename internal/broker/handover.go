package broker

import (
	"time"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/partition"
)

// handOverTimeout bounds the wait, at a controlled shutdown, for the followers to copy
// everything this broker leads: a follower that stopped fetching is not waited for past
// it (the ISR would drop it soon anyway).
const handOverTimeout = 5 * time.Second

// handOver, at a controlled shutdown and before leadership moves, stops taking produce
// on the partitions this broker leads (clients get NOT_LEADER_OR_FOLLOWER and retry) and
// waits, bounded, until every partition's high watermark reaches its log end: the next
// leader, an in-sync follower, then holds every record this broker acknowledged, acks=1
// included, and every acks=all produce still waiting has been answered. Kafka moves
// leadership without this wait, and acks=1 records the followers had not yet copied are
// truncated away at a rolling restart; here they are not.
func (b *Broker) handOver() {
	b.handingOver.Store(true)
	deadline := time.After(handOverTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !b.allCopied() {
		select {
		case <-deadline:
			b.log.Warn("controlled shutdown: followers had not copied everything this broker leads; handing over anyway", "waited", handOverTimeout)
			return
		case <-tick.C:
		}
	}
}

// allCopied reports whether every partition this broker leads has its high watermark at
// its log end.
func (b *Broker) allCopied() bool {
	copied := true
	b.replicas.eachLed(func(_ *cluster.Topic, p *partition.Partition) {
		if p.HighWatermark() < p.Log().EndOffset() {
			copied = false
		}
	})
	return copied
}

package cluster

import "github.com/twmb/franz-go/pkg/kerr"

// Broker lifecycle commands, proposed by the controller: fencing a broker whose
// heartbeats stopped, unfencing one that has caught up with the metadata log, and a
// controlled shutdown. Each names the broker epoch it was decided for, so that a
// decision about an earlier incarnation never touches a broker that has registered
// again since.

type fenceBrokerCmd struct {
	ID    int32 `json:"id"`
	Epoch int64 `json:"epoch"`
}

type unfenceBrokerCmd struct {
	ID    int32 `json:"id"`
	Epoch int64 `json:"epoch"`
}

type controlledShutdownCmd struct {
	ID    int32 `json:"id"`
	Epoch int64 `json:"epoch"`
}

// applyRegisterBroker records a broker incarnation, fenced until its heartbeats show it
// has caught up with the metadata log (the controller then unfences it). A registration
// that replaces an earlier incarnation means that one stopped, cleanly or not: it is
// taken out of leaderships and ISRs first, as fencing would, so that nothing it led
// before its restart looks led by the new incarnation (KRaft's unclean shutdown
// handling). Its epoch is the registration's log index, as in Kafka.
func applyRegisterBroker(img *Image, index uint64, r *registerBrokerCmd) (*Image, applyResult) {
	if b, ok := img.Brokers[r.ID]; ok && b.Incarnation == r.Incarnation {
		// The same incarnation asking again (its first answer was lost, and the retry
		// raced the first commit): it keeps the epoch it may already be using.
		return nil, applyResult{brokerEpoch: b.Epoch}
	}
	next := img.withChanges(index)
	if _, again := img.Brokers[r.ID]; again {
		next.updatePartitions(func(_ *Topic, p Partition) Partition { return next.withoutReplica(p, r.ID) })
	}
	next.Brokers[r.ID] = Broker{
		ID: r.ID, Host: r.Host, Port: r.Port, Rack: r.Rack,
		Incarnation: r.Incarnation, Epoch: int64(index), Fenced: true,
	}
	return next, applyResult{brokerEpoch: int64(index)}
}

// brokerAt is the registered broker id at epoch, or the error a stale decision gets.
func brokerAt(img *Image, id int32, epoch int64) (Broker, error) {
	b, ok := img.Brokers[id]
	if !ok {
		return Broker{}, errorf(kerr.BrokerIDNotRegistered, "broker %d is not registered", id)
	}
	if b.Epoch != epoch {
		return Broker{}, errorf(kerr.StaleBrokerEpoch, "broker %d has epoch %d, not %d", id, b.Epoch, epoch)
	}
	return b, nil
}

// applyFenceBroker fences the broker and takes it out of every leadership and ISR.
func applyFenceBroker(img *Image, index uint64, c *fenceBrokerCmd) (*Image, applyResult) {
	b, err := brokerAt(img, c.ID, c.Epoch)
	if err != nil {
		return nil, applyResult{err: err}
	}
	if b.Fenced {
		return nil, applyResult{}
	}
	b.Fenced, b.ShuttingDown = true, false
	next := img.withChanges(index)
	next.Brokers[b.ID] = b
	next.updatePartitions(func(_ *Topic, p Partition) Partition { return next.withoutReplica(p, b.ID) })
	return next, applyResult{}
}

// applyUnfenceBroker lets the broker serve again, and gives it back the leadership of
// partitions that went offline with it in their ISR.
func applyUnfenceBroker(img *Image, index uint64, c *unfenceBrokerCmd) (*Image, applyResult) {
	b, err := brokerAt(img, c.ID, c.Epoch)
	if err != nil {
		return nil, applyResult{err: err}
	}
	if !b.Fenced {
		return nil, applyResult{}
	}
	b.Fenced = false
	next := img.withChanges(index)
	next.Brokers[b.ID] = b
	next.leadOfflinePartitions()
	return next, applyResult{}
}

// leadOfflinePartitions elects a leader, from its ISR, for every partition without one:
// after a broker came back, those it was in sync for are online again.
func (next *Image) leadOfflinePartitions() {
	next.updatePartitions(func(_ *Topic, p Partition) Partition {
		if p.Leader != -1 {
			return p
		}
		return withLeader(p, next.electFromISR(p, p.ISR), p.ISR)
	})
}

// applyControlledShutdown moves leadership away from the broker and takes it out of the
// ISRs it is not the last member of; it stays registered and unfenced until it stops.
func applyControlledShutdown(img *Image, index uint64, c *controlledShutdownCmd) (*Image, applyResult) {
	b, err := brokerAt(img, c.ID, c.Epoch)
	if err != nil {
		return nil, applyResult{err: err}
	}
	if b.ShuttingDown || b.Fenced {
		return nil, applyResult{}
	}
	b.ShuttingDown = true
	next := img.withChanges(index)
	next.Brokers[b.ID] = b
	next.updatePartitions(func(_ *Topic, p Partition) Partition {
		q := next.withoutReplica(p, b.ID)
		if q.Leader == -1 && p.Leader == b.ID {
			// Nobody else can lead without losing data: keep serving until the broker
			// is fenced at the end of its shutdown, as Kafka does.
			return p
		}
		return q
	})
	return next, applyResult{}
}

package cluster

import "slices"

// Leader election and ISR bookkeeping, as pure functions of an image: the FSM's Apply
// uses them, so every node elects the same leader from the same log.
//
// Rules, as in KRaft:
//   - a leader comes from the ISR, first eligible replica in assignment order (the
//     preferred leader when it is eligible);
//   - eligible means registered, unfenced and not in controlled shutdown (KIP-841);
//   - an unclean election (unclean.leader.election.enable) may pick an out-of-sync
//     replica, but only when no ISR member is eligible, and the ISR becomes that one
//     replica: whatever the old ISR had beyond its log is lost, which is why it is opt-in;
//   - with no eligible replica the partition is offline (leader -1) and keeps its last
//     ISR, so that the first of those to come back can lead without losing anything.

// eligible reports whether broker id may lead or join an ISR.
func (img *Image) eligible(id int32) bool {
	b, ok := img.Brokers[id]
	return ok && !b.Fenced && !b.ShuttingDown
}

// electFromISR is the replica that should lead p among isr, or -1.
func (img *Image) electFromISR(p Partition, isr []int32) int32 {
	for _, r := range p.Replicas {
		if slices.Contains(isr, r) && img.eligible(r) {
			return r
		}
	}
	return -1
}

// electUnclean is the first eligible replica in assignment order, in sync or not, or -1.
func (img *Image) electUnclean(p Partition) int32 {
	for _, r := range p.Replicas {
		if img.eligible(r) {
			return r
		}
	}
	return -1
}

// withLeader returns p led by leader, bumping the leader epoch when the leader changes
// and the partition epoch whenever anything does.
func withLeader(p Partition, leader int32, isr []int32) Partition {
	if leader == p.Leader && slices.Equal(isr, p.ISR) {
		return p
	}
	if leader != p.Leader {
		p.LeaderEpoch++
	}
	p.Leader = leader
	p.ISR = isr
	p.PartitionEpoch++
	return p
}

// withoutReplica takes broker id out of p's leadership and, unless it is the last
// member, out of its ISR: what fencing and controlled shutdown do to each partition.
func (img *Image) withoutReplica(p Partition, id int32) Partition {
	if !slices.Contains(p.ISR, id) && p.Leader != id {
		return p
	}
	isr := p.ISR
	if len(isr) > 1 {
		isr = slices.DeleteFunc(slices.Clone(isr), func(r int32) bool { return r == id })
	}
	leader := p.Leader
	if leader == id || leader == -1 {
		leader = img.electFromISR(p, isr)
	}
	return withLeader(p, leader, isr)
}

// updatePartitions replaces, in next, every partition f changes. f sees the partition
// as it is in next and returns it, changed or not.
func (next *Image) updatePartitions(f func(t *Topic, p Partition) Partition) {
	for name, t := range next.Topics {
		var changed []Partition
		for i, p := range t.Partitions {
			q := f(t, p)
			if q.PartitionEpoch == p.PartitionEpoch {
				continue
			}
			if changed == nil {
				changed = slices.Clone(t.Partitions)
			}
			changed[i] = q
		}
		if changed != nil {
			updated := *next.Topics[name]
			updated.Partitions = changed
			next.putTopic(&updated)
		}
	}
}

package cluster

import (
	"math/rand/v2"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// placeReplicas assigns partitions [from, from+count) with rf replicas each over the
// live brokers, round-robin from a random broker as Kafka's rack-unaware placement
// does: partition p gets brokers start+p, start+p+1, ... so leaders spread evenly.
// The first replica is the leader, the ISR is every replica, epochs start at 0.
//
// It runs in the proposer (it uses randomness); the result travels in the command.
func placeReplicas(img *Image, from, count int32, rf int16) ([]Partition, error) {
	live := img.LiveBrokers()
	if rf < 1 {
		return nil, errorf(kerr.InvalidReplicationFactor, "replication factor must be at least 1, not %d", rf)
	}
	if int(rf) > len(live) {
		return nil, errorf(kerr.InvalidReplicationFactor,
			"replication factor %d cannot be reached: only %d broker(s) are registered and unfenced", rf, len(live))
	}
	start := rand.IntN(len(live))
	partitions := make([]Partition, 0, count)
	for p := from; p < from+count; p++ {
		replicas := make([]int32, rf)
		for i := range replicas {
			replicas[i] = live[(start+int(p)+i)%len(live)]
		}
		partitions = append(partitions, newPartition(p, replicas))
	}
	return partitions, nil
}

// manualPartitions builds partitions from a manual assignment (assignment[i] is
// partition i's replicas). Kafka requires the same replication factor throughout.
func manualPartitions(assignment [][]int32) ([]Partition, error) {
	partitions := make([]Partition, 0, len(assignment))
	for i, replicas := range assignment {
		p := int32(i)
		if p > 0 && len(replicas) != len(assignment[0]) {
			return nil, errorf(kerr.InvalidReplicaAssignment,
				"partition %d has %d replica(s) but partition 0 has %d; the replication factor must be the same", p, len(replicas), len(assignment[0]))
		}
		partitions = append(partitions, newPartition(p, slices.Clone(replicas)))
	}
	return partitions, nil
}

func newPartition(index int32, replicas []int32) Partition {
	leader := int32(-1)
	if len(replicas) > 0 {
		leader = replicas[0]
	}
	return Partition{Index: index, Leader: leader, Replicas: replicas, ISR: slices.Clone(replicas)}
}

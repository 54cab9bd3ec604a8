package cluster

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// threeBrokers is an image with brokers 1, 2, 3 (epochs 3, 4, 5) and topic "t" (id 1):
// partition 0 on [1 2 3], partition 1 on [2 3 1], partition 2 on [2] alone.
func threeBrokers(t *testing.T) *Image {
	t.Helper()
	topic := &Topic{Name: "t", ID: UUID{1}, Partitions: []Partition{
		newPartition(0, []int32{1, 2, 3}),
		newPartition(1, []int32{2, 3, 1}),
		newPartition(2, []int32{2}),
	}}
	return applyAll(t,
		command{InitCluster: &initClusterCmd{ClusterID: "c"}},
		command{ClaimController: &claimControllerCmd{NodeID: 1}},
		command{RegisterBroker: &registerBrokerCmd{ID: 1, Incarnation: UUID{1}}},
		command{RegisterBroker: &registerBrokerCmd{ID: 2, Incarnation: UUID{2}}},
		command{RegisterBroker: &registerBrokerCmd{ID: 3, Incarnation: UUID{3}}},
		unfence(1, 3), unfence(2, 4), unfence(3, 5),
		command{CreateTopic: &createTopicCmd{Topic: topic}},
	)
}

// step applies c at the next index and fails the test if it is refused.
func step(t *testing.T, img *Image, c command) *Image {
	t.Helper()
	next, res := applyCommand(img, img.Version+1, c)
	if res.err != nil {
		t.Fatalf("refused: %v", res.err)
	}
	if next == nil {
		return img
	}
	return next
}

// refused applies c and checks that it is refused with code, changing nothing.
func refused(t *testing.T, img *Image, c command, code *kerr.Error) {
	t.Helper()
	next, res := applyCommand(img, img.Version+1, c)
	if next != nil || !errors.Is(res.err, code) {
		t.Fatalf("next=%v err=%v, want %v", next != nil, res.err, code)
	}
}

type wantPartition struct {
	leader, leaderEpoch, partitionEpoch int32
	isr                                 []int32
}

func checkPartition(t *testing.T, img *Image, index int32, want wantPartition) {
	t.Helper()
	p := img.Topic("t").Partitions[index]
	if p.Leader != want.leader || p.LeaderEpoch != want.leaderEpoch || p.PartitionEpoch != want.partitionEpoch || !slices.Equal(p.ISR, want.isr) {
		t.Fatalf("partition %d: leader %d epoch %d partition epoch %d isr %v; want %+v",
			index, p.Leader, p.LeaderEpoch, p.PartitionEpoch, p.ISR, want)
	}
}

func fence(id int32, epoch int64) command {
	return command{FenceBroker: &fenceBrokerCmd{ID: id, Epoch: epoch}}
}

func unfence(id int32, epoch int64) command {
	return command{UnfenceBroker: &unfenceBrokerCmd{ID: id, Epoch: epoch}}
}

func TestFencingMovesLeadershipWithinTheISR(t *testing.T) {
	img := threeBrokers(t)
	img = step(t, img, fence(1, 3))
	if !img.Brokers[1].Fenced || !slices.Equal(img.LiveBrokers(), []int32{2, 3}) {
		t.Fatalf("broker 1 not fenced: %+v", img.Brokers[1])
	}
	checkPartition(t, img, 0, wantPartition{leader: 2, leaderEpoch: 1, partitionEpoch: 1, isr: []int32{2, 3}})
	checkPartition(t, img, 1, wantPartition{leader: 2, leaderEpoch: 0, partitionEpoch: 1, isr: []int32{2, 3}})
	checkPartition(t, img, 2, wantPartition{leader: 2, leaderEpoch: 0, partitionEpoch: 0, isr: []int32{2}})

	// The last ISR member keeps its place, so that it can lead again without loss.
	img = step(t, img, fence(2, 4))
	img = step(t, img, fence(3, 5))
	checkPartition(t, img, 0, wantPartition{leader: -1, leaderEpoch: 3, partitionEpoch: 3, isr: []int32{3}})
	checkPartition(t, img, 2, wantPartition{leader: -1, leaderEpoch: 1, partitionEpoch: 1, isr: []int32{2}})

	// Broker 1 is back but out of sync: partition 0 stays offline.
	img = step(t, img, unfence(1, 3))
	checkPartition(t, img, 0, wantPartition{leader: -1, leaderEpoch: 3, partitionEpoch: 3, isr: []int32{3}})
	// The ISR's last member is back: it leads.
	img = step(t, img, unfence(3, 5))
	checkPartition(t, img, 0, wantPartition{leader: 3, leaderEpoch: 4, partitionEpoch: 4, isr: []int32{3}})
	// A restarted broker registers again, fenced, and takes back what only it can lead
	// once it is unfenced.
	img = step(t, img, command{RegisterBroker: &registerBrokerCmd{ID: 2, Incarnation: UUID{22}}})
	checkPartition(t, img, 2, wantPartition{leader: -1, leaderEpoch: 1, partitionEpoch: 1, isr: []int32{2}})
	img = step(t, img, unfence(2, int64(img.Version)))
	checkPartition(t, img, 2, wantPartition{leader: 2, leaderEpoch: 2, partitionEpoch: 2, isr: []int32{2}})
}

// A broker that registers again (a restart) leaves the leaderships and ISRs of its earlier
// incarnation at once, whether or not that one was ever fenced.
func TestRegistrationReplacesTheEarlierIncarnation(t *testing.T) {
	img := threeBrokers(t)
	img = step(t, img, command{RegisterBroker: &registerBrokerCmd{ID: 1, Incarnation: UUID{11}}})
	if b := img.Brokers[1]; !b.Fenced || b.Epoch != int64(img.Version) || b.Incarnation != (UUID{11}) {
		t.Fatalf("broker 1 after registering again: %+v", b)
	}
	checkPartition(t, img, 0, wantPartition{leader: 2, leaderEpoch: 1, partitionEpoch: 1, isr: []int32{2, 3}})
	refused(t, img, unfence(1, 3), kerr.StaleBrokerEpoch)
}

func TestStaleBrokerDecisionsAreRefused(t *testing.T) {
	img := threeBrokers(t)
	refused(t, img, fence(1, 2), kerr.StaleBrokerEpoch)
	refused(t, img, fence(9, 3), kerr.BrokerIDNotRegistered)
	refused(t, img, unfence(1, 4), kerr.StaleBrokerEpoch)
	refused(t, img, command{ControlledShutdown: &controlledShutdownCmd{ID: 1, Epoch: 7}}, kerr.StaleBrokerEpoch)
	// Fencing twice, or unfencing a live broker, changes nothing.
	img = step(t, img, fence(1, 3))
	if next, res := applyCommand(img, 99, fence(1, 3)); next != nil || res.err != nil {
		t.Fatalf("second fence: next=%v err=%v", next != nil, res.err)
	}
	if next, res := applyCommand(img, 99, unfence(2, 4)); next != nil || res.err != nil {
		t.Fatalf("unfencing a live broker: next=%v err=%v", next != nil, res.err)
	}
}

func TestControlledShutdownMovesLeadershipAndKeepsSoleReplicas(t *testing.T) {
	img := threeBrokers(t)
	img = step(t, img, command{ControlledShutdown: &controlledShutdownCmd{ID: 2, Epoch: 4}})
	checkPartition(t, img, 0, wantPartition{leader: 1, leaderEpoch: 0, partitionEpoch: 1, isr: []int32{1, 3}})
	checkPartition(t, img, 1, wantPartition{leader: 3, leaderEpoch: 1, partitionEpoch: 1, isr: []int32{3, 1}})
	// Nobody else can take partition 2 without loss: broker 2 serves it until it stops.
	checkPartition(t, img, 2, wantPartition{leader: 2, leaderEpoch: 0, partitionEpoch: 0, isr: []int32{2}})
	if slices.Contains(img.LiveBrokers(), 2) {
		t.Fatal("a broker shutting down takes new partitions")
	}
	// KIP-841: it cannot join an ISR again before it registers anew.
	refused(t, img, alter(3, 5, 1, 1, 1, []int32{3, 1, 2}), kerr.IneligibleReplica)
	img = step(t, img, fence(2, 4))
	checkPartition(t, img, 2, wantPartition{leader: -1, leaderEpoch: 1, partitionEpoch: 1, isr: []int32{2}})
}

func alter(broker int32, brokerEpoch int64, partition, leaderEpoch, partitionEpoch int32, isr []int32) command {
	return command{AlterPartition: &alterPartitionCmd{BrokerID: broker, BrokerEpoch: brokerEpoch, TopicID: UUID{1},
		Partition: partition, LeaderEpoch: leaderEpoch, PartitionEpoch: partitionEpoch, ISR: isr}}
}

func TestAlterPartitionIsGuardedByEpochs(t *testing.T) {
	img := threeBrokers(t)
	img = step(t, img, alter(1, 3, 0, 0, 0, []int32{1, 2}))
	checkPartition(t, img, 0, wantPartition{leader: 1, leaderEpoch: 0, partitionEpoch: 1, isr: []int32{1, 2}})

	refused(t, img, alter(1, 3, 0, 0, 0, []int32{1}), kerr.InvalidUpdateVersion) // stale partition epoch
	refused(t, img, alter(1, 3, 0, 1, 1, []int32{1}), kerr.FencedLeaderEpoch)
	refused(t, img, alter(2, 4, 0, 0, 1, []int32{2}), kerr.NotLeaderForPartition)
	refused(t, img, alter(1, 2, 0, 0, 1, []int32{1}), kerr.StaleBrokerEpoch)
	refused(t, img, alter(1, 3, 0, 0, 1, []int32{2, 3}), kerr.InvalidRequest) // leaves out the leader
	refused(t, img, alter(1, 3, 0, 0, 1, []int32{1, 1}), kerr.InvalidRequest)
	refused(t, img, alter(1, 3, 2, 0, 0, []int32{2, 1}), kerr.NotLeaderForPartition)
	refused(t, img, alter(2, 4, 2, 0, 0, []int32{2, 1}), kerr.InvalidRequest) // 1 is no replica of partition 2
	refused(t, img, alter(1, 3, 7, 0, 0, []int32{1}), kerr.UnknownTopicOrPartition)

	// A fenced broker cannot be added back (KIP-841); once unfenced it can.
	img = step(t, img, fence(3, 5))
	refused(t, img, alter(1, 3, 0, 0, 1, []int32{1, 2, 3}), kerr.IneligibleReplica)
	img = step(t, img, unfence(3, 5))
	img = step(t, img, alter(1, 3, 0, 0, 1, []int32{1, 2, 3}))
	checkPartition(t, img, 0, wantPartition{leader: 1, leaderEpoch: 0, partitionEpoch: 2, isr: []int32{1, 2, 3}})
}

func TestPreferredAndUncleanElections(t *testing.T) {
	img := threeBrokers(t)
	elect := func(unclean bool) command {
		return command{ElectLeader: &electLeaderCmd{TopicID: UUID{1}, Partition: 0, Unclean: unclean}}
	}
	refused(t, img, elect(false), kerr.ElectionNotNeeded)
	img = step(t, img, fence(1, 3))
	refused(t, img, elect(false), kerr.PreferredLeaderNotAvailable)
	// Back and in sync again: the preferred replica leads once more.
	img = step(t, img, unfence(1, 3))
	img = step(t, img, alter(2, 4, 0, 1, 1, []int32{2, 3, 1}))
	img = step(t, img, elect(false))
	checkPartition(t, img, 0, wantPartition{leader: 1, leaderEpoch: 2, partitionEpoch: 3, isr: []int32{2, 3, 1}})

	// The whole ISR dies but for a replica that fell out of it: only an unclean election
	// brings the partition back, with that replica alone in sync.
	img = step(t, img, alter(1, 3, 0, 2, 3, []int32{1, 2}))
	refused(t, img, elect(true), kerr.ElectionNotNeeded)
	img = step(t, img, fence(1, 3))
	img = step(t, img, fence(2, 4))
	checkPartition(t, img, 0, wantPartition{leader: -1, leaderEpoch: 4, partitionEpoch: 6, isr: []int32{2}})
	img = step(t, img, elect(true))
	checkPartition(t, img, 0, wantPartition{leader: 3, leaderEpoch: 5, partitionEpoch: 7, isr: []int32{3}})
	img = step(t, img, fence(3, 5))
	refused(t, img, elect(true), kerr.EligibleLeadersNotAvailable)
}

func TestFencingNeverModifiesThePreviousImage(t *testing.T) {
	before := threeBrokers(t)
	var snapshot bytes.Buffer
	if err := writeSnapshot(&snapshot, before); err != nil {
		t.Fatal(err)
	}
	img := step(t, before, fence(1, 3))
	img = step(t, img, command{ControlledShutdown: &controlledShutdownCmd{ID: 2, Epoch: 4}})
	_ = step(t, img, alter(3, 5, 0, 2, 2, []int32{3}))
	var after bytes.Buffer
	if err := writeSnapshot(&after, before); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshot.Bytes(), after.Bytes()) {
		t.Fatalf("image changed under its readers:\n%s\n%s", snapshot.Bytes(), after.Bytes())
	}
}

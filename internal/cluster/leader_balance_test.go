package cluster

import (
	"slices"
	"testing"
)

// The check counts the partitions their preferred replica does not lead, and elects
// back only those of brokers above the percentage whose preferred replica can lead.
func TestLeaderImbalance(t *testing.T) {
	img := threeBrokers(t) // 0 on [1 2 3], 1 on [2 3 1], 2 on [2]: each led by its first
	check := func(img *Image, percent int32, wantImbalanced int, want ...int32) {
		t.Helper()
		imbalanced, elections := leaderImbalance(img, percent)
		var got []int32
		for _, e := range elections {
			if e.TopicID != (UUID{1}) || e.Unclean {
				t.Fatalf("unexpected election %+v", e)
			}
			got = append(got, e.Partition)
		}
		if imbalanced != wantImbalanced || !slices.Equal(got, want) {
			t.Fatalf("percent %d: imbalanced %d, elections %v; want %d, %v", percent, imbalanced, got, wantImbalanced, want)
		}
	}
	check(img, 10, 0)

	// Broker 2 stops: partition 1 moves to 3; partition 2, its alone, stays with it.
	img = step(t, img, command{ControlledShutdown: &controlledShutdownCmd{ID: 2, Epoch: 4}})
	check(img, 10, 1) // 2 cannot lead: shutting down
	// It comes back (a new incarnation), unfenced, but not yet in sync.
	img = step(t, img, command{RegisterBroker: &registerBrokerCmd{ID: 2, Incarnation: UUID{22}}})
	img = step(t, img, unfence(2, int64(img.Version)))
	check(img, 10, 1)
	// In sync again: 1 of its 2 partitions (50%) is led elsewhere.
	p1 := img.Topic("t").Partitions[1]
	img = step(t, img, alter(3, 5, 1, p1.LeaderEpoch, p1.PartitionEpoch, []int32{3, 1, 2}))
	check(img, 10, 1, 1)
	check(img, 49, 1, 1)
	check(img, 50, 1) // not above 50%
	check(img, 100, 1)

	img = step(t, img, command{ElectLeader: &electLeaderCmd{TopicID: UUID{1}, Partition: 1}})
	check(img, 0, 0)
}

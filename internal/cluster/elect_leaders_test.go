package cluster

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// A broker that forwarded elections answers once its image shows them: a later leader
// epoch than it saw when it asked, with the leader asked for. An earlier leader change
// it had not applied yet when it asked does not count.
func TestElectionsShown(t *testing.T) {
	img := threeBrokers(t)
	img = step(t, img, fence(1, 3)) // partition 0: leader 2, epoch 1
	p0 := TopicPartition{Topic: "t", Partition: 0}
	marks := leaderMarks(img, []TopicPartition{p0})
	elected := []ElectionResult{{TopicPartition: p0}}

	if electionsShown(img, elected, marks, false) {
		t.Fatal("shown before any change")
	}
	// Broker 2 goes too, before the election: leader 3, a later epoch, but not the one
	// asked for.
	lagging := step(t, img, fence(2, 4))
	if electionsShown(lagging, elected, marks, false) {
		t.Fatal("an earlier leader change taken for the preferred election")
	}
	back := step(t, lagging, unfence(1, 3))
	p := back.Topic("t").Partitions[0]
	back = step(t, back, alter(3, 5, 0, p.LeaderEpoch, p.PartitionEpoch, []int32{3, 1}))
	back = step(t, back, command{ElectLeader: &electLeaderCmd{TopicID: UUID{1}, Partition: 0}})
	if !electionsShown(back, elected, marks, false) {
		t.Fatal("the preferred election not shown")
	}
	// Refused elections wait for nothing; a topic deleted since is done; one this node
	// did not know when it asked (an election of every partition) must appear first.
	if !electionsShown(img, []ElectionResult{{TopicPartition: p0, Err: errorf(kerr.ElectionNotNeeded, "")}}, marks, false) {
		t.Fatal("a refused election waited for")
	}
	gone := step(t, img, command{DeleteTopic: &deleteTopicCmd{ID: UUID{1}}})
	if !electionsShown(gone, elected, marks, false) {
		t.Fatal("a deleted topic's election waited for")
	}
	unknown := []ElectionResult{{TopicPartition: TopicPartition{Topic: "new", Partition: 0}}}
	if electionsShown(gone, unknown, marks, false) {
		t.Fatal("an election of a topic this node has not seen taken as shown")
	}
}

// Results come back in the order asked, the partitions this node did not know answered
// here; an answer that leaves one out is an error, not a silent gap.
func TestElectionResultsInOrder(t *testing.T) {
	a, b, c := TopicPartition{"a", 0}, TopicPartition{"b", 3}, TopicPartition{"a", 1}
	unknown := map[TopicPartition]error{b: errorf(kerr.UnknownTopicOrPartition, "no b")}
	answered := []ElectionResult{{TopicPartition: c, Err: errorf(kerr.ElectionNotNeeded, "")}, {TopicPartition: a}}
	got, err := resultsInOrder([]TopicPartition{a, b, c}, unknown, answered)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].TopicPartition != a || got[0].Err != nil || !errors.Is(got[1].Err, kerr.UnknownTopicOrPartition) ||
		!errors.Is(got[2].Err, kerr.ElectionNotNeeded) {
		t.Fatalf("results %+v", got)
	}
	if _, err := resultsInOrder([]TopicPartition{a, c}, nil, answered[:1]); err == nil {
		t.Fatal("an answer missing a partition accepted")
	}

	// nil asks for every partition (Kafka's null), an empty list for none.
	if req := electLeadersRequest(true, nil, 100); req.Topics != nil || req.ElectionType != 1 {
		t.Fatalf("every partition: %+v", req)
	}
	req := electLeadersRequest(false, []TopicPartition{a, b, c}, 100)
	if len(req.Topics) != 2 || req.Topics[0].Topic != "a" || len(req.Topics[0].Partitions) != 2 || req.ElectionType != 0 {
		t.Fatalf("named partitions: %+v", req)
	}
}

package durability_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

const (
	groupTopic         = "group-durability"
	groupName          = "durability-group"
	groupPartitions    = 6
	groupValuesPerStep = 1500
	groupSteps         = 4
	groupTimeout       = 30 * time.Second
)

// TestConsumerGroupCommittedOffsetsSurviveRebalancesAndRestart runs a group of members
// that commit after processing through membership changes (one leaves, one joins), then
// stops the members right after they processed records they never committed, restarts the
// broker, and lets a new member resume. A committed record must never be delivered again,
// only the uncommitted tail is re-delivered, every record is processed, and the committed
// offsets read through the admin API are the same before and after the restart.
func TestConsumerGroupCommittedOffsetsSurviveRebalancesAndRestart(t *testing.T) {
	broker := testbroker.Start(t)
	testbroker.CreateTopic(t, broker.Addr(), groupTopic, groupPartitions)
	producer := testbroker.NewClient(t, broker.Addr(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ledger := newGroupLedger()
	produced := 0
	produceStep := func() {
		t.Helper()
		produceToEveryPartition(t, producer, groupTopic, produced, groupValuesPerStep)
		produced += groupValuesPerStep
		waitUntil(t, groupTimeout, fmt.Sprintf("the group to process %d records", produced),
			func() bool { return ledger.distinctProcessed() >= produced })
	}
	join := func(name string) *groupMember {
		return startGroupMember(t, broker.Addr(), groupName, groupTopic, name, ledger)
	}

	// Three members share the six partitions.
	m1, m2, m3 := join("m1"), join("m2"), join("m3")
	waitForBalancedGroup(t, m1, m2, m3)
	produceStep()

	// One leaves: its partitions move to the others, which resume at its commits.
	m1.leave()
	waitForBalancedGroup(t, m2, m3)
	produceStep()

	// One joins: partitions move to it.
	m4 := join("m4")
	waitForBalancedGroup(t, m2, m3, m4)
	produceStep()

	// The members stop right after processing their next records, committing nothing more.
	for _, m := range []*groupMember{m2, m3, m4} {
		m.crash()
	}
	produceToEveryPartition(t, producer, groupTopic, produced, groupValuesPerStep)
	produced += groupValuesPerStep
	for _, m := range []*groupMember{m2, m3, m4} {
		waitClosed(t, m.exited, groupTimeout, m.name+" to stop after processing")
	}
	for _, m := range []*groupMember{m2, m3, m4} {
		m.close()
	}

	committedBefore := fetchCommittedOffsets(t, broker.Addr())
	if acked := ledger.committedOffsets(); !equalOffsets(acked, committedBefore) {
		t.Errorf("before the restart the coordinator reports committed offsets %v, but acknowledged commits were %v", committedBefore, acked)
	}
	broker.Restart()
	committedAfter := fetchCommittedOffsets(t, broker.Addr())
	if !equalOffsets(committedBefore, committedAfter) {
		t.Fatalf("committed offsets changed across the restart: before %v, after %v", committedBefore, committedAfter)
	}
	deliveriesBeforeRestart, _ := ledger.history()

	// A new member resumes from the committed offsets and finishes the topic.
	m5 := join("m5")
	waitUntil(t, groupTimeout, fmt.Sprintf("m5 to process the rest of the %d records", produced),
		func() bool { return ledger.distinctProcessed() >= produced })
	m5.leave()

	deliveries, belowCommitted := ledger.history()
	deliveriesAfterRestart := deliveries[len(deliveriesBeforeRestart):]
	tail := uncommittedTail(deliveriesBeforeRestart, committedAfter)
	redelivered := processedAgain(deliveriesBeforeRestart, deliveriesAfterRestart)
	resumedAt := firstOffsets(deliveriesAfterRestart, "m5")
	for _, m := range []*groupMember{m1, m2, m3, m4, m5} {
		assignments, failedCommits := m.counts()
		t.Logf("%s: %d assignments, %d failed commits", m.name, assignments, failedCommits)
	}
	t.Logf("produced %d, processed %d distinct in %d deliveries (%d re-deliveries before the restart); uncommitted tail at the crash %d, re-delivered after the restart %d; committed offsets %v; m5 resumed at %v",
		produced, ledger.distinctProcessed(), len(deliveries), len(processedAgain(nil, deliveriesBeforeRestart)),
		len(tail), len(redelivered), committedAfter, resumedAt)

	if len(belowCommitted) > 0 {
		t.Errorf("%d committed records were delivered again, e.g. %v", len(belowCommitted), firstFew(belowCommitted))
	}
	if got := ledger.distinctProcessed(); got != produced {
		t.Errorf("processed %d distinct records, want %d", got, produced)
	}
	for p, offset := range committedAfter {
		if at, ok := resumedAt[p]; ok && at != offset {
			t.Errorf("m5 resumed partition %d at offset %d, but the committed offset is %d", p, at, offset)
		}
	}
	if len(tail) == 0 {
		t.Errorf("the crashed members left no uncommitted tail; the restart checked nothing")
	}
	if missing, unexpected := compareSets(tail, redelivered); len(missing) > 0 || len(unexpected) > 0 {
		t.Errorf("after the restart exactly the uncommitted tail should be re-delivered: tail records not re-delivered %v, re-delivered records outside the tail %v",
			firstFew(missing), firstFew(unexpected))
	}
}

// produceToEveryPartition writes count values ("group-<n>", n from first) round-robin over
// the topic's partitions and waits for all the acks.
func produceToEveryPartition(t *testing.T, cl *kgo.Client, topic string, first, count int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	records := make([]*kgo.Record, count)
	for i := range records {
		n := first + i
		records[i] = &kgo.Record{Topic: topic, Partition: int32(n % groupPartitions), Value: fmt.Appendf(nil, "group-%06d", n)}
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
}

// waitForBalancedGroup waits until members own every partition between them, each at
// least one and none twice.
func waitForBalancedGroup(t *testing.T, members ...*groupMember) {
	t.Helper()
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.name
	}
	waitUntil(t, groupTimeout, fmt.Sprintf("%v to share the %d partitions", names, groupPartitions), func() bool {
		owners := map[int32]int{}
		for _, m := range members {
			owned := m.ownedPartitions()
			if len(owned) == 0 {
				return false
			}
			for p := range owned {
				owners[p]++
			}
		}
		if len(owners) != groupPartitions {
			return false
		}
		for _, n := range owners {
			if n != 1 {
				return false
			}
		}
		return true
	})
}

// fetchCommittedOffsets reads the group's committed offsets through the admin API.
func fetchCommittedOffsets(t *testing.T, addr string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	adm := kadm.NewClient(testbroker.OpenClient(t, addr))
	defer adm.Close()
	fetched, err := adm.FetchOffsets(ctx, groupName)
	if err == nil {
		err = fetched.Error()
	}
	if err != nil {
		t.Fatalf("fetching the committed offsets of %s: %v", groupName, err)
	}
	out := map[int32]int64{}
	fetched.Each(func(o kadm.OffsetResponse) {
		if o.Topic == groupTopic {
			out[o.Partition] = o.At
		}
	})
	return out
}

func equalOffsets(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for p, o := range a {
		if bo, ok := b[p]; !ok || bo != o {
			return false
		}
	}
	return true
}

// uncommittedTail lists the values processed at or past their partition's committed offset.
func uncommittedTail(deliveries []groupDelivery, committed map[int32]int64) map[string]bool {
	tail := map[string]bool{}
	for _, d := range deliveries {
		if d.offset >= committed[d.partition] {
			tail[d.value] = true
		}
	}
	return tail
}

// processedAgain lists the values of later that were processed before: in earlier, or
// earlier in later.
func processedAgain(earlier, later []groupDelivery) map[string]bool {
	seen, again := map[string]bool{}, map[string]bool{}
	for _, d := range earlier {
		seen[d.value] = true
	}
	for _, d := range later {
		if seen[d.value] {
			again[d.value] = true
		}
		seen[d.value] = true
	}
	return again
}

// firstOffsets maps each partition to the first offset member processed in it.
func firstOffsets(deliveries []groupDelivery, member string) map[int32]int64 {
	first := map[int32]int64{}
	for _, d := range deliveries {
		if _, ok := first[d.partition]; !ok && d.member == member {
			first[d.partition] = d.offset
		}
	}
	return first
}

// compareSets returns the sorted values only in want and only in got.
func compareSets(want, got map[string]bool) (onlyWant, onlyGot []string) {
	for v := range want {
		if !got[v] {
			onlyWant = append(onlyWant, v)
		}
	}
	for v := range got {
		if !want[v] {
			onlyGot = append(onlyGot, v)
		}
	}
	sort.Strings(onlyWant)
	sort.Strings(onlyGot)
	return onlyWant, onlyGot
}

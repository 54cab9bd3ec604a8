package main

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// commitGroup gives group committed offsets by consuming n records of topic with the
// consume command, leaving the group empty afterwards.
func commitGroup(t *testing.T, seeds, group, topic, n string) {
	t.Helper()
	mustRun(t, seeds, "", "consume", topic, "--group", group, "-n", n)
}

func TestGroupListDescribeDelete(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 2)
	produceTestRecords(t, seeds, valueRecords("orders", 0, 5)...)
	produceTestRecords(t, seeds, valueRecords("orders", 1, 2)...)
	commitGroup(t, seeds, "billing", "orders", "7")

	out := mustRun(t, seeds, "", "group", "list")
	wantRow(t, out, "GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR")
	if !hasRowPrefix(out, "billing") || !strings.Contains(out, "Empty") {
		t.Errorf("group list:\n%s", out)
	}

	produceTestRecords(t, seeds, valueRecords("orders", 0, 3)...) // lag 3 on partition 0
	out = mustRun(t, seeds, "", "group", "describe", "billing")
	wantRow(t, out, "GROUP", "billing")
	wantRow(t, out, "STATE", "Empty")
	wantRow(t, out, "MEMBERS", "0")
	wantRow(t, out, "TOTAL-LAG", "3")
	wantRow(t, out, "TOPIC", "PARTITION", "COMMITTED-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID", "ERROR")
	wantRow(t, out, "orders", "0", "5", "8", "3", "-", "-")
	wantRow(t, out, "orders", "1", "2", "2", "0", "-", "-")

	out = mustRun(t, seeds, "", "group", "delete", "billing")
	wantRow(t, out, "billing", "OK")
	if out := mustRun(t, seeds, "", "group", "list"); hasRowPrefix(out, "billing") {
		t.Errorf("billing still listed after delete:\n%s", out)
	}
	if got := committedOffsets(t, seeds, "billing", "orders"); len(got) != 0 {
		t.Errorf("offsets survive the delete: %v", got)
	}
}

func TestGroupDescribeUnknownGroup(t *testing.T) {
	seeds := startTestCluster(t)
	res := mustFail(t, seeds, "", "group", "describe", "ghost")
	wantErrorWith(t, res.err, kerr.GroupIDNotFound, "describe group ghost", "waybill group list")
}

func TestGroupSeek(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 2)
	createTestTopic(t, seeds, "other", 1)
	produceTestRecords(t, seeds, valueRecords("orders", 0, 4)...)
	produceTestRecords(t, seeds, valueRecords("orders", 1, 6)...)
	produceTestRecords(t, seeds, valueRecords("other", 0, 2)...)
	commitGroup(t, seeds, "g", "orders", "10")

	out := mustRun(t, seeds, "", "group", "seek", "g", "--to", "start")
	wantRow(t, out, "TOPIC", "PARTITION", "PRIOR-OFFSET", "NEW-OFFSET", "STATUS")
	wantRow(t, out, "orders", "0", "4", "0", "OK")
	wantRow(t, out, "orders", "1", "6", "0", "OK")
	if got := committedOffsets(t, seeds, "g", "orders"); got[0] != 0 || got[1] != 0 {
		t.Fatalf("after --to start: %v", got)
	}
	describe := mustRun(t, seeds, "", "group", "describe", "g")
	wantRow(t, describe, "orders", "0", "0", "4", "4", "-", "-")
	wantRow(t, describe, "TOTAL-LAG", "10")

	mustRun(t, seeds, "", "group", "seek", "g", "--to", "3")
	if got := committedOffsets(t, seeds, "g", "orders"); got[0] != 3 || got[1] != 3 {
		t.Fatalf("after --to 3: %v", got)
	}
	// The consumer resumes at the new position.
	out = mustRun(t, seeds, "", "consume", "orders", "--group", "g", "-n", "4", "--format", "%p:%v")
	if got := strings.Join(sortedLines(out), " "); got != "0:v3 1:v3 1:v4 1:v5" {
		t.Fatalf("after seeking to 3 the group read %q", got)
	}

	out = mustRun(t, seeds, "", "group", "seek", "g", "--to", "end", "--topics", "other", "--dry-run")
	wantRow(t, out, "other", "0", "-", "2", "OK", "(dry", "run,", "nothing", "committed)")
	if got := committedOffsets(t, seeds, "g", "other"); len(got) != 0 {
		t.Fatalf("--dry-run committed %v", got)
	}
	mustRun(t, seeds, "", "group", "seek", "g", "--to", "end", "--topics", "other")
	if got := committedOffsets(t, seeds, "g", "other"); got[0] != 2 {
		t.Fatalf("after --to end --topics other: %v", got)
	}

	res := mustFail(t, seeds, "", "group", "seek", "g", "--to", "start", "--topics", "missing")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "topic missing")
	res = mustFail(t, seeds, "", "group", "seek", "g", "--to", "soon")
	wantErrorWith(t, res.err, nil, "not start, end or an offset")
	res = mustFail(t, seeds, "", "group", "seek", "fresh", "--to", "start")
	wantErrorWith(t, res.err, nil, "no committed offsets", "--topics")
}

// TestGroupActiveMembers runs a real group member and checks that describe shows it, and
// that seek and delete refuse to touch the group while it is there.
func TestGroupActiveMembers(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 2)
	produceTestRecords(t, seeds, valueRecords("orders", 0, 2)...)

	assigned := make(chan struct{}, 1)
	member, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(seeds, ",")...),
		kgo.ClientID("member-under-test"),
		kgo.ConsumerGroup("busy"),
		kgo.ConsumeTopics("orders"),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			select {
			case assigned <- struct{}{}:
			default:
			}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	// Polling drives the join; the assignment callback says when the group is stable.
	pollCtx, stopPolling := context.WithCancel(testContext(t))
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for pollCtx.Err() == nil {
			member.PollFetches(pollCtx)
		}
	}()
	defer func() { stopPolling(); <-polled }()
	select {
	case <-assigned:
	case <-testContext(t).Done():
		t.Fatal("the member was never assigned partitions")
	}

	out := mustRun(t, seeds, "", "group", "describe", "busy")
	wantRow(t, out, "STATE", "Stable")
	wantRow(t, out, "MEMBERS", "1")
	wantRow(t, out, "MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNED")
	if !strings.Contains(out, "member-under-test") || !strings.Contains(out, "orders[0,1]") {
		t.Errorf("describe does not show the member and its assignment:\n%s", out)
	}

	res := mustFail(t, seeds, "", "group", "seek", "busy", "--to", "start", "--topics", "orders")
	wantErrorWith(t, res.err, kerr.NonEmptyGroup, "group busy is Stable with 1 members", "hint: stop the group's consumers")
	res = mustFail(t, seeds, "", "group", "delete", "busy")
	wantErrorWith(t, res.err, kerr.NonEmptyGroup, "delete group busy", "hint:")
}

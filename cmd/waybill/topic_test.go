package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/testbroker"
)

func TestTopicCreateListDescribeDelete(t *testing.T) {
	seeds := startTestCluster(t)
	out := mustRun(t, seeds, "", "topic", "create", "orders", "payments", "-p", "3", "-r", "1", "-c", "retention.ms=3600000")
	wantRows(t, out, [][]string{
		{"TOPIC", "PARTITIONS", "REPLICAS", "STATUS"},
		{"orders", "3", "1", "OK"},
		{"payments", "3", "1", "OK"},
	})

	md, err := newTestAdmin(t, seeds).ListTopics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(md["orders"].Partitions); got != 3 {
		t.Fatalf("orders has %d partitions in the cluster, want 3", got)
	}

	out = mustRun(t, seeds, "", "topic", "list")
	wantRows(t, out, [][]string{
		{"NAME", "PARTITIONS", "REPLICAS"},
		{"orders", "3", "1"},
		{"payments", "3", "1"},
	})
	out = mustRun(t, seeds, "", "topic", "list", "--internal")
	wantRow(t, out, "NAME", "PARTITIONS", "REPLICAS", "INTERNAL")
	wantRow(t, out, "orders", "3", "1", "false")

	out = mustRun(t, seeds, "", "topic", "describe", "orders")
	wantRow(t, out, "NAME", "orders")
	wantRow(t, out, "PARTITIONS", "3")
	wantRow(t, out, "retention.ms", "3600000", "DYNAMIC_TOPIC_CONFIG")
	wantRow(t, out, "PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OFFLINE-REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK")
	for _, p := range []string{"0", "1", "2"} {
		if !hasRowPrefix(out, p) {
			t.Errorf("describe lacks partition %s:\n%s", p, out)
		}
	}
	overrides := mustRun(t, seeds, "", "topic", "describe", "orders", "--overrides-only")
	if got := rowsBetween(overrides, "CONFIGS", "PARTITIONS"); len(got) != 2 { // header + retention.ms
		t.Errorf("--overrides-only shows %d config lines, want header and retention.ms:\n%s", len(got), overrides)
	}

	out = mustRun(t, seeds, "", "topic", "delete", "orders")
	wantRow(t, out, "orders", "OK")
	out = mustRun(t, seeds, "", "topic", "list")
	if strings.Contains(out, "orders") {
		t.Fatalf("orders still listed after delete:\n%s", out)
	}
}

func TestTopicCreateReportsEachFailure(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "exists", 1)

	res := mustFail(t, seeds, "", "topic", "create", "exists", "fresh", "-p", "2")
	wantRow(t, res.stdout, "fresh", "2", "1", "OK")
	if !hasRowPrefix(res.stdout, "exists") || !strings.Contains(res.stdout, "TOPIC_ALREADY_EXISTS") {
		t.Errorf("table does not report the existing topic:\n%s", res.stdout)
	}
	wantErrorWith(t, res.err, kerr.TopicAlreadyExists, "1 of 2 failed", "hint: choose another name")

	md, err := newTestAdmin(t, seeds).ListTopics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(md["fresh"].Partitions) != 2 {
		t.Errorf("fresh was not created with 2 partitions: %+v", md["fresh"])
	}
}

func TestTopicCreateDryRunCreatesNothing(t *testing.T) {
	seeds := startTestCluster(t)
	out := mustRun(t, seeds, "", "topic", "create", "ghost", "-p", "4", "--dry-run")
	if !strings.Contains(out, "dry run") {
		t.Errorf("dry run not reported:\n%s", out)
	}
	md, err := newTestAdmin(t, seeds).ListTopics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := md["ghost"]; ok {
		t.Fatal("--dry-run created the topic")
	}
}

func TestTopicCreateRejectsBadConfigFlag(t *testing.T) {
	seeds := startTestCluster(t)
	res := mustFail(t, seeds, "", "topic", "create", "t", "-c", "retention.ms")
	wantErrorWith(t, res.err, nil, "is not key=value", "hint:")
}

func TestTopicAlterConfig(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)
	adm := newTestAdmin(t, seeds)
	configValue := func(key string) (value string, set bool) {
		t.Helper()
		rcs, err := adm.DescribeTopicConfigs(testContext(t), "orders")
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.On("orders", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rc.Configs {
			if c.Key == key {
				return c.MaybeValue(), c.Source.String() == "DYNAMIC_TOPIC_CONFIG"
			}
		}
		return "", false
	}

	out := mustRun(t, seeds, "", "topic", "alter-config", "orders", "--set", "retention.ms=1234", "--set", "cleanup.policy=compact")
	wantRow(t, out, "orders", "OK")
	if v, set := configValue("retention.ms"); v != "1234" || !set {
		t.Fatalf("retention.ms = %q (set on topic: %v), want 1234", v, set)
	}

	mustRun(t, seeds, "", "topic", "alter-config", "orders", "--delete", "retention.ms")
	if _, set := configValue("retention.ms"); set {
		t.Fatal("retention.ms still set on the topic after --delete")
	}
	if v, _ := configValue("cleanup.policy"); v != "compact" {
		t.Fatalf("--delete of another key changed cleanup.policy to %q", v)
	}

	res := mustFail(t, seeds, "", "topic", "alter-config", "orders")
	wantErrorWith(t, res.err, nil, "nothing to change")
	res = mustFail(t, seeds, "", "topic", "alter-config", "missing", "--set", "retention.ms=1")
	if !strings.Contains(res.err.Error(), "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("altering a missing topic: %v", res.err)
	}
}

func TestTopicAddPartitions(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 2)

	out := mustRun(t, seeds, "", "topic", "add-partitions", "orders", "-n", "5")
	wantRow(t, out, "orders", "5", "OK")
	md, err := newTestAdmin(t, seeds).ListTopics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(md["orders"].Partitions); got != 5 {
		t.Fatalf("orders has %d partitions, want 5", got)
	}

	res := mustFail(t, seeds, "", "topic", "add-partitions", "orders", "-n", "3")
	wantErrorWith(t, res.err, kerr.InvalidPartitions, "hint:")
}

func TestTopicDescribeUnknownTopic(t *testing.T) {
	seeds := startTestCluster(t)
	res := mustFail(t, seeds, "", "topic", "describe", "nope")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "describe topic nope", "hint: check the name with `waybill topic list`")
}

// On a cluster of three, describe shows each partition's replica layout: leader and
// leader epoch, replicas, ISR, and the replicas on a broker that is down.
func TestTopicDescribeShowsTheReplicaLayout(t *testing.T) {
	nodes := testbroker.StartCluster(t, 3)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr())
	}
	// The CLI's creation goes to the controller, which has seen every broker unfenced
	// once the cluster has started; --replication-factor is Kafka's name for -r.
	mustRun(t, strings.Join(addrs, ","), "", "topic", "create", "layout", "-p", "3", "--replication-factor", "3")

	down := nodes[2]
	down.Stop()
	live := strings.Join(addrs[:2], ",")
	offline := fmt.Sprint(down.NodeID())
	// Until the cluster has moved leadership off the stopped broker and out of the ISR.
	laidOut := func(rows [][]string) bool {
		if len(rows) != 3 {
			return false
		}
		for _, r := range rows {
			if len(r) < 8 {
				return false
			}
			leader, replicas, isr := r[1], strings.Split(r[3], ","), strings.Split(r[4], ",")
			slices.Sort(replicas)
			if !slices.Equal(replicas, []string{"1", "2", "3"}) || r[5] != offline ||
				slices.Contains(isr, offline) || !slices.Contains(isr, leader) {
				return false
			}
		}
		return true
	}
	ctx := testContext(t)
	var out string
	for {
		res := runCLI(t, live, "", "topic", "describe", "layout")
		out = res.stdout
		if res.err == nil && laidOut(partitionRows(out)) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("describe never showed broker %s offline and out of every ISR: %v\n%s%s", offline, res.err, out, res.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	wantRow(t, out, "PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OFFLINE-REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK")
	for _, r := range partitionRows(out) {
		// A partition the stopped broker led has a new leader, in a new epoch.
		if r[2] == "0" && strings.HasPrefix(r[3], offline+",") {
			t.Errorf("partition %s was led by broker %s, but its leader epoch is still 0:\n%s", r[0], offline, out)
		}
	}
}

// partitionRows are the cells of describe's partition rows, without the header.
func partitionRows(out string) [][]string {
	var rows [][]string
	for i, l := range rowsBetween(out, "PARTITIONS", "") {
		if i > 0 {
			rows = append(rows, tableCells(l))
		}
	}
	return rows
}

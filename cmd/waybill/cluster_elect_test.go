package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/testbroker"
)

// A person restarts a broker of three; leadership stays with the brokers that stayed
// up until `waybill cluster elect-leaders` moves it back to the preferred replicas.
// Asked again, nothing needs an election; a partition that does not exist fails the
// command, and so do flags that name no partitions.
func TestClusterElectLeaders(t *testing.T) {
	nodes := testbroker.StartCluster(t, 3, testbroker.WithBrokerConfig(map[string]string{"auto.leader.rebalance.enable": "false"}))
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr())
	}
	seeds := strings.Join(addrs, ",")
	const topic = "elect"
	resp, err := newTestAdmin(t, seeds).CreateTopic(testContext(t), 3, 3, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	restarted := testbroker.RestartPreferredBroker(ctx, t, nodes, topic, 3)
	var moved []string
	for _, p := range testbroker.WaitForISR(ctx, t, nodes, topic, 3, 3) {
		if !p.Preferred() {
			moved = append(moved, fmt.Sprint(p.Partition))
		}
	}
	if len(moved) == 0 {
		t.Fatalf("no leadership moved away from broker %d", restarted.NodeID())
	}

	out := mustRun(t, seeds, "", "cluster", "elect-leaders", "--all")
	rows := outputLines(out)
	for _, p := range moved {
		if !containsLine(rows, topic+" "+p+" elected") {
			t.Errorf("partition %s not reported elected:\n%s", p, out)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("elected %d of %d partitions", len(moved), len(moved))) {
		t.Errorf("no summary of %d elections:\n%s", len(moved), out)
	}
	testbroker.WaitForPartitions(ctx, t, nodes, topic, 3, "every partition led by its first replica",
		func(p testbroker.PartitionState) bool { return p.Preferred() })

	if out := mustRun(t, seeds, "", "cluster", "elect-leaders", "--all"); !strings.Contains(out, "no partition needs an election") {
		t.Errorf("second --all:\n%s", out)
	}
	out = mustRun(t, seeds, "", "cluster", "elect-leaders", "--topic", topic)
	for p := range 3 {
		if !containsLinePrefix(outputLines(out), fmt.Sprintf("%s %d not needed", topic, p)) {
			t.Errorf("partition %d not reported as needing no election:\n%s", p, out)
		}
	}
	res := runCLI(t, seeds, "", "cluster", "elect-leaders", "--type", "unclean", "--topic", topic, "--partition", "0,1")
	if res.err != nil || !strings.Contains(res.stderr, "warning: an unclean election") || strings.Count(res.stdout, "not needed") != 2 {
		t.Errorf("unclean election of partitions with leaders: %v\nstdout:\n%s\nstderr:\n%s", res.err, res.stdout, res.stderr)
	}

	failed := mustFail(t, seeds, "", "cluster", "elect-leaders", "--topic", topic, "--partition", "0", "--partition", "9")
	if !errors.Is(failed.err, kerr.UnknownTopicOrPartition) || !strings.Contains(failed.err.Error(), topic+"-9") ||
		!containsLinePrefix(outputLines(failed.stdout), topic+" 0 not needed") {
		t.Errorf("a missing partition: %v\nstdout:\n%s", failed.err, failed.stdout)
	}
	if failed := mustFail(t, seeds, "", "cluster", "elect-leaders", "--topic", "missing"); !errors.Is(failed.err, kerr.UnknownTopicOrPartition) {
		t.Errorf("a missing topic: %v", failed.err)
	}
	for _, args := range [][]string{{}, {"--all", "--topic", topic}, {"--partition", "1"}, {"--all", "--type", "random"}} {
		if failed := mustFail(t, seeds, "", append([]string{"cluster", "elect-leaders"}, args...)...); failed.stdout != "" {
			t.Errorf("%v printed %q before failing", args, failed.stdout)
		}
	}
}

// containsLine reports whether one of rows, its cells joined by single spaces, is line.
func containsLine(rows []string, line string) bool {
	for _, r := range rows {
		if strings.Join(strings.Fields(r), " ") == line {
			return true
		}
	}
	return false
}

// containsLinePrefix is containsLine for a row that starts with prefix.
func containsLinePrefix(rows []string, prefix string) bool {
	for _, r := range rows {
		if strings.HasPrefix(strings.Join(strings.Fields(r), " "), prefix) {
			return true
		}
	}
	return false
}

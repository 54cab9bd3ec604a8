package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// clusterCommands are the leaves of every command tree that talks to a cluster.
func clusterCommands(root *cobra.Command) []*cobra.Command {
	var leaves []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Runnable() && len(cmd.Commands()) == 0 {
			leaves = append(leaves, cmd)
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	for _, name := range []string{"topic", "produce", "consume", "group", "txn", "cluster", "bench"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			panic(err)
		}
		walk(cmd)
	}
	return leaves
}

// Every command that talks to a cluster names its brokers the same way, with the same
// default and environment variable, and lists no alias in its help.
func TestEveryClusterCommandTakesBrokers(t *testing.T) {
	t.Setenv("WAYBILL_BROKERS", "")
	root := newRootCmd()
	leaves := clusterCommands(root)
	if len(leaves) < 15 {
		t.Fatalf("found only %d cluster commands", len(leaves))
	}
	for _, cmd := range leaves {
		path := cmd.CommandPath()
		f := cmd.Flag("brokers")
		if f == nil {
			t.Errorf("%s has no --brokers", path)
			continue
		}
		if f.DefValue != defaultBrokers {
			t.Errorf("%s --brokers defaults to %q, want %q", path, f.DefValue, defaultBrokers)
		}
		if !strings.HasPrefix(f.Usage, "comma-separated seed brokers, host:port") || !strings.HasSuffix(f.Usage, "(env WAYBILL_BROKERS)") {
			t.Errorf("%s --brokers help reads %q", path, f.Usage)
		}
		for _, alias := range []string{"bootstrap", "bootstrap-server"} {
			if a := cmd.Flag(alias); a == nil || !a.Hidden {
				t.Errorf("%s: --%s should be a hidden alias of --brokers", path, alias)
			}
		}
		var help bytes.Buffer
		cmd.SetOut(&help)
		if err := cmd.Help(); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(help.String(), "--brokers"); n == 0 || strings.Contains(help.String(), "--bootstrap ") {
			t.Errorf("%s --help lists --brokers %d times or lists --bootstrap:\n%s", path, n, help.String())
		}
	}
}

// The producer flags read the same in produce and bench.
func TestProducerFlagsReadTheSame(t *testing.T) {
	root := newRootCmd()
	produce, _, _ := root.Find([]string{"produce"})
	bench, _, _ := root.Find([]string{"bench"})
	for _, name := range []string{"acks", "idempotent", "compression", "linger"} {
		p, b := produce.Flag(name), bench.Flag(name)
		if p == nil || b == nil {
			t.Fatalf("--%s missing: produce %v, bench %v", name, p != nil, b != nil)
		}
		if p.Usage != b.Usage || p.Shorthand != b.Shorthand {
			t.Errorf("--%s differs: produce -%s %q, bench -%s %q", name, p.Shorthand, p.Usage, b.Shorthand, b.Usage)
		}
	}
}

// The aliases really reach the cluster.
func TestBrokersAliasesWork(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "aliased", 2)
	t.Setenv("WAYBILL_BROKERS", "127.0.0.1:1") // wrong on purpose: the flag must win
	for _, flag := range []string{"--brokers", "--bootstrap", "--bootstrap-server"} {
		var out bytes.Buffer
		if err := runCLIContext(testContext(t), &out, &out, "", "topic", "list", flag, seeds); err != nil {
			t.Fatalf("topic list %s: %v\n%s", flag, err, out.String())
		}
		wantRow(t, out.String(), "aliased", "2", "1")
	}
}

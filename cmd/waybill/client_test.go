package main

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestClientCommandsHaveHelpWithExamples(t *testing.T) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Example == "" || cmd.Short == "" {
			t.Errorf("%q lacks a short description or examples", cmd.CommandPath())
		}
		for _, name := range []string{"brokers", "client-id", "request-timeout"} {
			if cmd.Flag(name) == nil {
				t.Errorf("%q has no --%s flag", cmd.CommandPath(), name)
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	for _, cmd := range clientCommands() {
		walk(cmd)
	}

	var out bytes.Buffer
	if err := runCLIContext(context.Background(), &out, &out, "", "consume", "--help"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "--group", "--from", "%t topic", "WAYBILL_BROKERS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("consume --help lacks %q", want)
		}
	}
}

func TestClientUnreachableBrokerHint(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	for _, args := range [][]string{
		{"topic", "list"},
		{"consume", "orders"},
		{"produce", "orders"},
		{"group", "list"},
	} {
		var out bytes.Buffer
		err := runCLIContext(testContext(t), &out, &out, "x\n", append(args, "--brokers", addr, "--request-timeout", "5s")...)
		wantErrorWith(t, err, nil, "hint: is a broker listening at "+addr+"?")
	}
}

func TestClientBrokersFromEnvironment(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "from-env", 1)
	t.Setenv("WAYBILL_BROKERS", seeds)
	t.Setenv("WAYBILL_CLIENT_ID", "env-client")

	var out bytes.Buffer
	if err := runCLIContext(testContext(t), &out, &out, "", "topic", "list"); err != nil {
		t.Fatal(err)
	}
	wantRow(t, out.String(), "from-env", "1", "1")

	// The client id reaches the broker: a running group member shows it.
	produceTestRecords(t, seeds, &kgo.Record{Topic: "from-env", Value: []byte("x")})
	ctx, cancel := context.WithCancel(testContext(t))
	stdout := newLineWaiter()
	done := make(chan error, 1)
	go func() {
		done <- runCLIContext(ctx, stdout, &bytes.Buffer{}, "", "consume", "from-env", "--group", "env-group")
	}()
	stdout.waitLines(t, 1)
	described := mustRun(t, seeds, "", "group", "describe", "env-group")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(described, "env-client") {
		t.Errorf("member's client id is not env-client:\n%s", described)
	}
}

func TestClientParsePartitions(t *testing.T) {
	for spec, want := range map[string][]int32{
		"0":         {0},
		"2,0,1":     {0, 1, 2},
		"0-3":       {0, 1, 2, 3},
		"5, 1-2, 1": {1, 2, 5},
	} {
		got, err := parsePartitions(spec)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parsePartitions(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "-1", "3-1", "1-x", ","} {
		if got, err := parsePartitions(bad); err == nil {
			t.Errorf("parsePartitions(%q) = %v, want an error", bad, got)
		}
	}
}

func TestClientFormatStringErrors(t *testing.T) {
	for _, bad := range []string{"%v%", `%v\`, "%x", `\q%v`} {
		if _, err := newRecordFormat(bad); err == nil {
			t.Errorf("format %q accepted", bad)
		}
	}
}

func TestClientMisspeltSubcommandFails(t *testing.T) {
	var out bytes.Buffer
	err := runCLIContext(testContext(t), &out, &out, "", "topic", "craete", "orders")
	wantErrorWith(t, err, nil, `unknown command "craete" for "waybill topic"`, "did you mean create?")

	out.Reset()
	if err := runCLIContext(testContext(t), &out, &out, "", "group"); err != nil {
		t.Fatalf("bare group: %v", err)
	}
	if !strings.Contains(out.String(), "seek") {
		t.Errorf("bare group does not print its help:\n%s", out.String())
	}
}

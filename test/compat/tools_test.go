package compat_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// installHint is what to run when a client tool these tests exec is missing. A missing
// tool fails the test: CI installs the tools, so skipping would hide a broken setup.
const installHint = "run scripts/test, which installs them, or `apt-get install kcat python3-confluent-kafka`"

// requireKcat returns kcat's path or fails the test.
func requireKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not installed (%v): %s", err, installHint)
	}
	return path
}

// requireConfluentKafkaPython returns a python3 that can import confluent_kafka, or
// fails the test.
func requireConfluentKafkaPython(ctx context.Context, t *testing.T) string {
	t.Helper()
	python := "/usr/bin/python3"
	out, err := exec.CommandContext(ctx, python, "-c", "import confluent_kafka; print(confluent_kafka.libversion()[0])").CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot import confluent_kafka (%v: %s): %s", python, err, strings.TrimSpace(string(out)), installHint)
	}
	t.Logf("confluent-kafka-python with librdkafka %s", strings.TrimSpace(string(out)))
	return python
}

// toolTimeout bounds one exec of a client tool; each finishes within a few seconds
// (a group consumer's join takes librdkafka about 3 s).
const toolTimeout = 10 * time.Second

// run execs a tool with stdin, bounded by ctx and toolTimeout, and returns its stdout
// and stderr; a non-zero exit fails the test with (the ends of) both.
func run(ctx context.Context, t *testing.T, stdin string, name string, args ...string) (string, string) {
	t.Helper()
	return runWithin(ctx, t, toolTimeout, stdin, name, args...)
}

// runWithin is run bounded by d instead of toolTimeout, for a tool whose scenario takes
// longer.
func runWithin(ctx context.Context, t *testing.T, d time.Duration, stdin string, name string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v (context: %v)\nstderr:\n%s\nstdout:\n%s", name, strings.Join(args, " "), err, ctx.Err(), ends(stderr.String()), ends(stdout.String()))
	}
	return stdout.String(), stderr.String()
}

// runKcat runs kcat like run, returns its stdout, and also fails the test on any
// error-level librdkafka log line ("%3|..." or more severe): librdkafka only logs the
// protocol violations it recovers from.
func runKcat(ctx context.Context, t *testing.T, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr := run(ctx, t, stdin, requireKcat(t), args...)
	for _, line := range strings.Split(stderr, "\n") {
		if len(line) > 2 && line[0] == '%' && line[1] >= '0' && line[1] <= '3' && line[2] == '|' {
			t.Errorf("kcat %s: librdkafka logged an error: %s", strings.Join(args, " "), line)
		}
	}
	return stdout
}

// ends keeps failure messages readable: a looping client can write megabytes. A client's
// debug output tells what went wrong at its end, its start how it got there.
func ends(s string) string {
	const start, end = 2000, 8000
	if len(s) <= start+end {
		return s
	}
	return s[:start] + fmt.Sprintf("\n... (%d bytes left out) ...\n", len(s)-start-end) + s[len(s)-end:]
}

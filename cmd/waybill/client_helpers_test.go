package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testDeadline bounds every command a test runs; a hang fails the test instead of the suite.
const testDeadline = 30 * time.Second

type cliResult struct {
	stdout, stderr string
	err            error
}

// runCLI executes the real root command with args plus --brokers seeds, feeding stdin.
func runCLI(t *testing.T, seeds, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := runCLIContext(ctx, &stdout, &stderr, stdin, append(args, "--brokers", seeds)...)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func runCLIContext(ctx context.Context, stdout, stderr interface{ Write([]byte) (int, error) }, stdin string, args ...string) error {
	root := newRootCmd()
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// mustRun is runCLI for commands that must succeed; it returns stdout.
func mustRun(t *testing.T, seeds, stdin string, args ...string) string {
	t.Helper()
	res := runCLI(t, seeds, stdin, args...)
	if res.err != nil {
		t.Fatalf("waybill %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.err, res.stdout, res.stderr)
	}
	return res.stdout
}

// mustFail is runCLI for commands that must fail; it returns the result for inspection.
func mustFail(t *testing.T, seeds, stdin string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, seeds, stdin, args...)
	if res.err == nil {
		t.Fatalf("waybill %s succeeded, want an error\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.stdout, res.stderr)
	}
	return res
}

// newTestAdmin is an admin client the tests use to check what is really in the cluster,
// independently of the commands under test.
func newTestAdmin(t *testing.T, seeds string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	t.Cleanup(adm.Close)
	return adm
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// createTestTopic creates a topic with partitions and one replica, failing the test on error.
func createTestTopic(t *testing.T, seeds, topic string, partitions int32) {
	t.Helper()
	resp, err := newTestAdmin(t, seeds).CreateTopic(testContext(t), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

// produceTestRecords writes records synchronously with a plain franz-go producer, so the
// consume and group tests do not depend on the produce command.
func produceTestRecords(t *testing.T, seeds string, records ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(testContext(t), records...).FirstErr(); err != nil {
		t.Fatalf("producing test records: %v", err)
	}
}

// valueRecords makes records v0..v(n-1) for one partition.
func valueRecords(topic string, partition int32, n int) []*kgo.Record {
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: []byte(fmt.Sprintf("v%d", i))}
	}
	return rs
}

// committedOffsets returns the group's committed offsets of topic by partition.
func committedOffsets(t *testing.T, seeds, group, topic string) map[int32]int64 {
	t.Helper()
	resps, err := newTestAdmin(t, seeds).FetchOffsets(testContext(t), group)
	if errors.Is(err, kerr.GroupIDNotFound) { // newer brokers say so instead of answering with nothing
		return map[int32]int64{}
	}
	if err != nil {
		t.Fatalf("fetching offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, r := range resps[topic] {
		if r.Err != nil {
			t.Fatalf("offset of %s/%d: %v", topic, p, r.Err)
		}
		out[p] = r.At
	}
	return out
}

// outputLines splits output into its non-empty lines.
func outputLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// lineWaiter is a concurrency-safe output buffer that can block until a number of lines
// were written, so a test can act on a running command without sleeping.
type lineWaiter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLineWaiter() *lineWaiter { return &lineWaiter{changed: make(chan struct{}, 1)} }

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (w *lineWaiter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *lineWaiter) waitLines(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(testDeadline)
	for len(outputLines(w.String())) < n {
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("waited for %d lines, have:\n%s", n, w.String())
		}
	}
}

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestConsumeFromPositions(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "ten", 1)
	produceTestRecords(t, seeds, valueRecords("ten", 0, 10)...)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "beginning", "-n", "3"}, "v0 v1 v2"},
		{[]string{"-n", "2"}, "v0 v1"}, // beginning is the default
		{[]string{"--from", "7", "-n", "3"}, "v7 v8 v9"},
		{[]string{"--from", "-2", "-n", "2"}, "v8 v9"},
		{[]string{"--from", "-50", "-n", "1"}, "v0"}, // clamped to the log start
		{[]string{"--from", "end", "--timeout", "300ms"}, ""},
		{[]string{"--from", "8", "--timeout", "300ms"}, "v8 v9"},
		{[]string{"--from", "100", "--timeout", "300ms"}, ""}, // past the end: waits at the end
		{[]string{"-p", "0", "--from", "-1", "-n", "1"}, "v9"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out := mustRun(t, seeds, "", append([]string{"consume", "ten"}, tc.args...)...)
			if got := strings.Join(outputLines(out), " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConsumeFormats(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "fmt", 2)
	ts := time.UnixMilli(1700000000123)
	produceTestRecords(t, seeds, &kgo.Record{
		Topic: "fmt", Partition: 1, Key: []byte("k"), Value: []byte("hello"), Timestamp: ts,
		Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}},
	})
	for format, want := range map[string]string{
		"text":                    "hello\n",
		`%t %p %o %k %v`:          "fmt 1 0 k hello\n",
		`%T|%h|%K|%S|%s|100%%\t.`: "1700000000123|a=1,b=2|1|5|hello|100%\t.\n",
		`%v\n`:                    "hello\n",
		"json":                    `{"topic":"fmt","partition":1,"offset":0,"timestamp":1700000000123,"key":"k","value":"hello","headers":[{"key":"a","value":"1"},{"key":"b","value":"2"}]}` + "\n",
	} {
		out := mustRun(t, seeds, "", "consume", "fmt", "-n", "1", "--format", format)
		if out != want {
			t.Errorf("--format %q printed %q, want %q", format, out, want)
		}
	}
	res := mustFail(t, seeds, "", "consume", "fmt", "--format", "%q")
	wantErrorWith(t, res.err, nil, "unknown verb %q", "hint:")
	res = mustFail(t, seeds, "", "consume", "fmt", "--format", "yaml")
	wantErrorWith(t, res.err, nil, "not text, json or a format string")
}

func TestConsumeGroupCommitsWhatItPrinted(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)
	produceTestRecords(t, seeds, valueRecords("orders", 0, 6)...)

	out := mustRun(t, seeds, "", "consume", "orders", "--group", "g", "-n", "4")
	if got := strings.Join(outputLines(out), " "); got != "v0 v1 v2 v3" {
		t.Fatalf("first run printed %q", got)
	}
	if got := committedOffsets(t, seeds, "g", "orders"); got[0] != 4 {
		t.Fatalf("committed %v after printing 4 records, want partition 0 at 4", got)
	}
	// --from only applies without a commit: the group resumes where it stopped.
	out = mustRun(t, seeds, "", "consume", "orders", "--group", "g", "-n", "2", "--from", "end")
	if got := strings.Join(outputLines(out), " "); got != "v4 v5" {
		t.Fatalf("second run printed %q, want v4 v5", got)
	}
	if got := committedOffsets(t, seeds, "g", "orders"); got[0] != 6 {
		t.Fatalf("committed %v, want partition 0 at 6", got)
	}
}

// TestConsumeGroupCommitsOnInterrupt cancels the command's context, which is what
// SIGINT does (the signal context is derived from it), and checks that the offsets of the
// printed records were committed and the command exited cleanly.
func TestConsumeGroupCommitsOnInterrupt(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)
	produceTestRecords(t, seeds, valueRecords("orders", 0, 3)...)

	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	stdout := newLineWaiter()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runCLIContext(ctx, stdout, &stderr, "", "consume", "orders", "--group", "live", "--brokers", seeds)
	}()
	stdout.waitLines(t, 3)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("interrupted consume returned %v\n%s", err, stderr.String())
	}
	if got := committedOffsets(t, seeds, "live", "orders"); got[0] != 3 {
		t.Fatalf("committed %v after interrupt, want partition 0 at 3", got)
	}
}

func TestConsumeRejectsUnknownTopicAndBadFlags(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "two", 2)

	res := mustFail(t, seeds, "", "consume", "missing")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "topic missing", "hint:")
	res = mustFail(t, seeds, "", "consume", "two", "-p", "0,5")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "no partition 5")
	res = mustFail(t, seeds, "", "consume", "two", "-p", "0", "--group", "g")
	wantErrorWith(t, res.err, nil, "cannot be combined")
	res = mustFail(t, seeds, "", "consume", "two", "--from", "yesterday")
	wantErrorWith(t, res.err, nil, "--from \"yesterday\"", "hint:")
	res = mustFail(t, seeds, "", "consume", "two", "--isolation", "dirty")
	wantErrorWith(t, res.err, nil, "read_committed or read_uncommitted")
}

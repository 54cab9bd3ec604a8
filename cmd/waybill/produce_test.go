package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestProduceConsumeRoundTrip(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)

	stdin := "k1:first\nk2:second:with:colons\nno delimiter here\n\nk3:<html> & more\r\n"
	res := runCLI(t, seeds, stdin, "produce", "orders", "--key-delimiter", ":", "-H", "source=cli", "-H", "trace=a=b")
	if res.err != nil {
		t.Fatalf("produce: %v\n%s", res.err, res.stderr)
	}
	if !strings.Contains(res.stderr, "produced 5 records") || !strings.Contains(res.stderr, "0 errors") {
		t.Errorf("summary = %q", res.stderr)
	}

	out := mustRun(t, seeds, "", "consume", "orders", "--format", "json", "-n", "5")
	type header struct{ Key, Value string }
	type record struct {
		Topic     string
		Partition int32
		Offset    int64
		Timestamp int64
		Key       *string
		Value     *string
		Headers   []header
	}
	want := []struct{ key, value string }{
		{"k1", "first"},
		{"k2", "second:with:colons"},
		{"<nil>", "no delimiter here"},
		{"<nil>", ""},
		{"k3", "<html> & more"},
	}
	got := outputLines(out)
	if len(got) != len(want) {
		t.Fatalf("consumed %d records, want %d:\n%s", len(got), len(want), out)
	}
	for i, line := range got {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, line)
		}
		key := "<nil>"
		if r.Key != nil {
			key = *r.Key
		}
		if r.Topic != "orders" || r.Partition != 0 || r.Offset != int64(i) || r.Timestamp <= 0 {
			t.Errorf("record %d position = %s/%d@%d ts %d", i, r.Topic, r.Partition, r.Offset, r.Timestamp)
		}
		if key != want[i].key || r.Value == nil || *r.Value != want[i].value {
			t.Errorf("record %d = %q:%v, want %q:%q", i, key, r.Value, want[i].key, want[i].value)
		}
		if fmt.Sprint(r.Headers) != "[{source cli} {trace a=b}]" {
			t.Errorf("record %d headers = %v", i, r.Headers)
		}
	}
}

// TestProduceSettings produces with each acks and compression setting to an explicit
// partition and checks that exactly those records landed there.
func TestProduceSettings(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "settings", 3)
	cases := [][]string{
		{"--acks", "all", "--compression", "none"},
		{"--acks", "1", "--compression", "gzip"},
		{"--acks", "0", "--compression", "snappy"},
		{"--acks", "all", "--compression", "lz4", "--linger", "5ms"},
		{"--acks", "all", "--compression", "zstd", "--idempotent=false"},
	}
	for i, flags := range cases {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			var in strings.Builder
			for j := range 3 {
				fmt.Fprintf(&in, "case%d-%d\n", i, j)
			}
			args := append([]string{"produce", "settings", "--partition", "1", "--key", "same"}, flags...)
			res := runCLI(t, seeds, in.String(), args...)
			if res.err != nil {
				t.Fatalf("produce: %v\n%s", res.err, res.stderr)
			}
			offset := fmt.Sprint(3 * i)
			out := mustRun(t, seeds, "", "consume", "settings", "-p", "1", "--from", offset, "-n", "3", "--format", `%p %k %v`)
			wantRows(t, out, [][]string{
				{"1", "same", fmt.Sprintf("case%d-0", i)},
				{"1", "same", fmt.Sprintf("case%d-1", i)},
				{"1", "same", fmt.Sprintf("case%d-2", i)},
			})
		})
	}
	ends, err := newTestAdmin(t, seeds).ListEndOffsets(testContext(t), "settings")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 0, 1: int64(3 * len(cases)), 2: 0} {
		if o, _ := ends.Lookup("settings", p); o.Offset != want {
			t.Errorf("partition %d ends at %d, want %d", p, o.Offset, want)
		}
	}
}

func TestProducePrintOffsets(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 2)
	out := mustRun(t, seeds, "a\nb\n", "produce", "orders", "-p", "1", "--print-offsets")
	wantRow(t, out, "line", "1:", "partition", "1", "offset", "0")
	wantRow(t, out, "line", "2:", "partition", "1", "offset", "1")
}

func TestProduceFailedRecordsExitNonZero(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)
	// The producer refuses a record above its 1 MiB batch limit before sending it, so
	// this failure does not depend on the broker's own max.message.bytes.
	huge := strings.Repeat("x", 1100<<10)
	res := mustFail(t, seeds, "ok-1\n"+huge+"\nok-2\n", "produce", "orders", "-p", "0")
	if !strings.Contains(res.stderr, "produced 2 records") || !strings.Contains(res.stderr, "1 errors") ||
		!strings.Contains(res.stderr, "first at line 2") {
		t.Errorf("summary = %q", res.stderr)
	}
	wantErrorWith(t, res.err, kerr.MessageTooLarge, "1 of 3 records were not produced", "hint:")

	out := mustRun(t, seeds, "", "consume", "orders", "-n", "2")
	wantRows(t, out, [][]string{{"ok-1"}, {"ok-2"}})
}

func TestProduceUnknownTopicFailsFast(t *testing.T) {
	seeds := startTestCluster(t)
	res := mustFail(t, seeds, "x\n", "produce", "missing")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "topic missing", "waybill topic create")

	createTestTopic(t, seeds, "small", 2)
	res = mustFail(t, seeds, "x\n", "produce", "small", "--partition", "7")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "no partition 7", "partitions 0 to 1")
}

func TestProduceRejectsBadFlags(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "k", "--key-delimiter", ":"}, "cannot be combined"},
		{[]string{"--acks", "2"}, "is not 0, 1 or all"},
		{[]string{"--compression", "brotli"}, "is not none, gzip"},
		{[]string{"-H", "novalue"}, "is not key=value"},
	} {
		res := mustFail(t, seeds, "x\n", append([]string{"produce", "orders"}, tc.args...)...)
		wantErrorWith(t, res.err, nil, tc.want)
	}
	ends, err := newTestAdmin(t, seeds).ListEndOffsets(testContext(t), "orders")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("orders", 0); o.Offset != 0 {
		t.Errorf("rejected commands still produced %d records", o.Offset)
	}
}

func TestProduceIdempotenceNeedsAcksAll(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)
	res := runCLI(t, seeds, "x\n", "produce", "orders", "--acks", "1", "--idempotent")
	if res.err != nil {
		t.Fatalf("produce: %v", res.err)
	}
	if !strings.Contains(res.stderr, "--idempotent needs --acks all") {
		t.Errorf("no note about idempotence being off: %q", res.stderr)
	}
}

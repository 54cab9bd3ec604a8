package compat_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestKcatRoundTripsKeyedRecordsWithEveryCodec: kcat (librdkafka) produces keyed
// records with an idempotent producer and each compression codec, then reads the topic
// from the beginning and prints exactly the records sent, each once.
func TestKcatRoundTripsKeyedRecordsWithEveryCodec(t *testing.T) {
	t.Parallel()
	requireKcat(t) // fail early, with the install hint, when kcat is missing
	b := startBroker(t)
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			topic := "kcat-" + codec
			createTopic(ctx, t, b.Addr(), topic, 3)
			keys, values := keyedValues(codec, 40)
			var input strings.Builder
			for i := range keys {
				input.WriteString(keys[i] + ":" + values[i] + "\n")
			}
			runKcat(ctx, t, input.String(), "-P", "-b", b.Addr(), "-t", topic, "-K:",
				"-X", "enable.idempotence=true", "-z", codec)

			var total int64
			for _, end := range endOffsets(ctx, t, b.Addr(), topic) {
				total += end
			}
			if total != int64(len(keys)) {
				t.Errorf("the topic holds %d records after kcat produced %d", total, len(keys))
			}

			out := runKcat(ctx, t, "", "-C", "-b", b.Addr(), "-t", topic, "-e", "-o", "beginning", "-f", "%k=%s\n")
			assertSameKeyValues(t, parseKcatLines(t, out), keys, values)
		})
	}
}

// TestKcatReportsContiguousOffsetsPerPartition: what kcat consumes carries, per
// partition, the offsets 0..n-1 in order.
func TestKcatReportsContiguousOffsetsPerPartition(t *testing.T) {
	t.Parallel()
	requireKcat(t) // fail early, with the install hint, when kcat is missing
	ctx := testContext(t)
	b := startBroker(t)
	const topic = "kcat-offsets"
	createTopic(ctx, t, b.Addr(), topic, 3)
	keys, values := keyedValues("offsets", 60)
	var input strings.Builder
	for i := range keys {
		input.WriteString(keys[i] + ":" + values[i] + "\n")
	}
	runKcat(ctx, t, input.String(), "-P", "-b", b.Addr(), "-t", topic, "-K:", "-X", "enable.idempotence=true", "-z", "lz4")
	out := runKcat(ctx, t, "", "-C", "-b", b.Addr(), "-t", topic, "-e", "-o", "beginning", "-f", "%p %o %k=%s\n")
	got := parseKcatOffsetLines(t, out)
	assertSameKeyValues(t, got, keys, values)
	assertContiguous(t, got, nil)
	assertOffsetsEqual(t, "end offsets", endOffsets(ctx, t, b.Addr(), topic), nextOffsets(got, map[int32]int64{0: 0, 1: 0, 2: 0}))
}

// parseKcatLines parses kcat's "-f '%k=%s\n'" output.
func parseKcatLines(t *testing.T, out string) []record {
	t.Helper()
	var rs []record
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("kcat printed %q, want key=value", line)
		}
		rs = append(rs, record{Partition: -1, Offset: -1, Key: k, Value: v})
	}
	return rs
}

// parseKcatOffsetLines parses kcat's "-f '%p %o %k=%s\n'" output.
func parseKcatOffsetLines(t *testing.T, out string) []record {
	t.Helper()
	var rs []record
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var r record
		var kv string
		if _, err := fmt.Sscan(line, &r.Partition, &r.Offset, &kv); err != nil {
			t.Fatalf("kcat printed %q, want 'partition offset key=value': %v", line, err)
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("kcat printed %q, want key=value", line)
		}
		r.Key, r.Value = k, v
		rs = append(rs, r)
	}
	return rs
}

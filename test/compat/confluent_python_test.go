package compat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

const confluentPythonScript = "testdata/confluent_kafka_client.py"

// TestConfluentKafkaPythonGroupResumesFromCommittedOffsets: confluent-kafka-python's
// idempotent acks=all Producer fills a 3-partition topic; a Consumer in a group reads it
// all from the earliest offset, commits and closes; after more records are produced, a
// new Consumer of the group reads exactly those.
func TestConfluentKafkaPythonGroupResumesFromCommittedOffsets(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	python := requireConfluentKafkaPython(ctx, t)
	b := startBroker(t)
	const topic, group = "confluent-python", "confluent-python-g"
	createTopic(ctx, t, b.Addr(), topic, 3)

	zero := map[int32]int64{0: 0, 1: 0, 2: 0}
	keys, values := keyedValues("before", 30)
	sent := confluentPythonProduce(ctx, t, python, b.Addr(), topic, keys, values)
	assertSameKeyValues(t, sent, keys, values)
	sortByPartitionOffset(sent)
	assertAckedOffsetsContiguous(t, sent, zero, endOffsets(ctx, t, b.Addr(), topic))

	got := confluentPythonConsume(ctx, t, python, b.Addr(), topic, group, len(keys))
	assertSameKeyValues(t, got, keys, values)
	assertContiguous(t, got, zero)
	end := endOffsets(ctx, t, b.Addr(), topic)
	assertOffsetsEqual(t, "committed offsets after the consumer closed", committedOffsets(ctx, t, b.Addr(), group, topic), end)

	keys, values = keyedValues("after", 12)
	sent = confluentPythonProduce(ctx, t, python, b.Addr(), topic, keys, values)
	sortByPartitionOffset(sent)
	assertAckedOffsetsContiguous(t, sent, end, endOffsets(ctx, t, b.Addr(), topic))
	got = confluentPythonConsume(ctx, t, python, b.Addr(), topic, group, len(keys))
	assertSameKeyValues(t, got, keys, values)
	assertContiguous(t, got, end)
}

func confluentPythonProduce(ctx context.Context, t *testing.T, python, addr, topic string, keys, values []string) []record {
	t.Helper()
	in := make([]record, len(keys))
	for i := range keys {
		in[i] = record{Key: keys[i], Value: values[i]}
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := run(ctx, t, string(stdin), python, confluentPythonScript, "produce", "--bootstrap", addr, "--topic", topic)
	return decodeRecords(t, out)
}

func confluentPythonConsume(ctx context.Context, t *testing.T, python, addr, topic, group string, n int) []record {
	t.Helper()
	out, _ := run(ctx, t, "", python, confluentPythonScript, "consume", "--bootstrap", addr, "--topic", topic,
		"--group", group, "--count", fmt.Sprint(n), "--timeout", "8")
	return decodeRecords(t, out)
}

func decodeRecords(t *testing.T, out string) []record {
	t.Helper()
	var rs []record
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("decoding the script's output %q: %v", out, err)
	}
	return rs
}

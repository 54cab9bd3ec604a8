package compat_test

import (
	"context"
	"testing"
)

// transformRun is one consume-transform-produce run of a client under test, as a new
// group member: it reads ten records of the input (read_committed), and in one
// transaction writes "tag:<value>" to the output for each and adds the offsets after
// the records read for the group; then it ends the transaction ("commit" or "abort").
// It returns the input records it read.
type transformRun func(tag, end string) []record

// transformTopics names a consume-transform-produce test's topics and group.
type transformTopics struct{ input, output, group string }

// assertTransformRunsExactlyOnce fills a 2-partition input with twenty records and
// calls transform three times: the first run commits and the group's committed offsets
// move past what it read; the second aborts and they stay; the third reads the aborted
// run's records again and commits, leaving the offsets at the input's end. Then the
// output holds exactly the first and third runs' records for read_committed, and the
// second's too for read_uncommitted. It returns the committed output values.
func assertTransformRunsExactlyOnce(ctx context.Context, t *testing.T, addr string, names transformTopics, transform transformRun) []string {
	t.Helper()
	createTopic(ctx, t, addr, names.input, 2)
	createTopic(ctx, t, addr, names.output, 3)
	inputValues := txnValues("input", 20)
	produceInput(ctx, t, addr, names.input, 0, inputValues[:10])
	produceInput(ctx, t, addr, names.input, 1, inputValues[10:])
	committedNow := func() map[int32]int64 { return stableCommittedOffsets(ctx, t, addr, names.group, names.input) }

	first := transform("first", "commit")
	afterFirst := nextOffsets(first, nil)
	assertOffsetsEqual(t, "committed offsets after the first transaction", committedNow(), afterFirst)
	aborted := transform("aborted", "abort")
	assertOffsetsEqual(t, "committed offsets after the aborted transaction", committedNow(), afterFirst)
	retried := transform("retried", "commit")
	assertSameValues(t, "the group member after the abort", recordValues(retried), recordValues(aborted))
	assertOffsetsEqual(t, "committed offsets after the retried transaction", committedNow(), endOffsets(ctx, t, addr, names.input))

	processed := append(append([]record(nil), first...), retried...)
	sortByPartitionOffset(processed)
	assertContiguous(t, processed, map[int32]int64{0: 0, 1: 0})
	assertSameValues(t, "the committed runs", recordValues(processed), inputValues)

	committed := append(transformed("first", recordValues(first)), transformed("retried", recordValues(retried))...)
	assertTransactionOutcome(ctx, t, addr, names.output, committed, transformed("aborted", recordValues(aborted)))
	return committed
}

func recordValues(rs []record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Value
	}
	return out
}

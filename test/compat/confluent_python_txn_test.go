package compat_test

import (
	"context"
	"encoding/json"
	"testing"
)

// confluentPythonTxnScript drives confluent-kafka-python transactions; -B keeps its
// import of confluent_kafka_client.py from writing __pycache__ into testdata.
const confluentPythonTxnScript = "testdata/confluent_kafka_txn.py"

// TestConfluentKafkaPythonTransactionsCommitAndAbort: a confluent-kafka-python
// transactional Producer commits, aborts and commits three transactions on a
// 3-partition topic; a read_committed python Consumer and franz-go see exactly the
// committed values, read_uncommitted all of them.
func TestConfluentKafkaPythonTransactionsCommitAndAbort(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	python := requireConfluentKafkaPython(ctx, t)
	b := startBroker(t)
	const topic = "confluent-python-txn"
	createTopic(ctx, t, b.Addr(), topic, 3)

	first, second, third := txnValues("first", 9), txnValues("second", 9), txnValues("third", 9)
	type txn struct {
		Values []string `json:"values"`
		Commit bool     `json:"commit"`
	}
	stdin, err := json.Marshal([]txn{{first, true}, {second, false}, {third, true}})
	if err != nil {
		t.Fatal(err)
	}
	run(ctx, t, string(stdin), python, "-B", confluentPythonTxnScript, "transactions",
		"--bootstrap", b.Addr(), "--topic", topic, "--transactional-id", "confluent-python-txn-producer")

	committed := append(first, third...)
	assertSameValues(t, "confluent-kafka-python read_committed", recordValues(confluentPythonReadCommitted(ctx, t, python, b.Addr(), topic)), committed)
	assertTransactionOutcome(ctx, t, b.Addr(), topic, committed, second)
}

// TestConfluentKafkaPythonTransactionalConsumeTransformProduce: three runs of a
// confluent-kafka-python consume-transform-produce loop (a new read_committed group
// Consumer each, one transactional id, send_offsets_to_transaction) commit, abort and
// commit; see assertTransformRunsExactlyOnce. A read_committed python Consumer also sees
// exactly the committed output.
func TestConfluentKafkaPythonTransactionalConsumeTransformProduce(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	python := requireConfluentKafkaPython(ctx, t)
	b := startBroker(t)
	names := transformTopics{"confluent-python-ctp-in", "confluent-python-ctp-out", "confluent-python-ctp-g"}
	committed := assertTransformRunsExactlyOnce(ctx, t, b.Addr(), names, func(tag, end string) []record {
		t.Helper()
		out, _ := run(ctx, t, "", python, "-B", confluentPythonTxnScript, "transform", "--bootstrap", b.Addr(),
			"--input", names.input, "--output", names.output, "--group", names.group,
			"--transactional-id", "confluent-python-ctp-producer", "--count", "10", "--tag", tag, "--end", end)
		return decodeRecords(t, out)
	})
	assertSameValues(t, "confluent-kafka-python read_committed", recordValues(confluentPythonReadCommitted(ctx, t, python, b.Addr(), names.output)), committed)
}

// confluentPythonReadCommitted reads all of topic with a read_committed python Consumer,
// leaving out the end markers assertTransactionOutcome may have appended.
func confluentPythonReadCommitted(ctx context.Context, t *testing.T, python, addr, topic string) []record {
	t.Helper()
	out, _ := run(ctx, t, "", python, "-B", confluentPythonTxnScript, "read", "--bootstrap", addr, "--topic", topic,
		"--isolation", "read_committed")
	var rs []record
	for _, r := range decodeRecords(t, out) {
		if r.Key != endOfLogKey {
			rs = append(rs, r)
		}
	}
	return rs
}

package compat_test

import (
	"encoding/json"
	"testing"
)

const kafkajsTxnScript = nodeDir + "/kafkajs_txn.js"

// TestKafkajsTransactionsCommitAndAbort: a kafkajs transactional producer (idempotent,
// one request in flight) commits, aborts and commits three transactions on a
// 3-partition topic; read_committed sees exactly the committed values and
// read_uncommitted all of them.
func TestKafkajsTransactionsCommitAndAbort(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	node := requireKafkajs(ctx, t)
	b := startBroker(t)
	const topic = "kafkajs-txn"
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
	run(ctx, t, string(stdin), node, kafkajsTxnScript, "transactions",
		"--bootstrap", b.Addr(), "--topic", topic, "--transactional-id", "kafkajs-txn-producer")

	assertTransactionOutcome(ctx, t, b.Addr(), topic, append(first, third...), second)
}

// TestKafkajsTransactionalConsumeTransformProduce: three runs of a kafkajs
// consume-transform-produce loop (a new read_committed group consumer each, one
// transactional id, the transaction's sendOffsets) commit, abort and commit; see
// assertTransformRunsExactlyOnce.
func TestKafkajsTransactionalConsumeTransformProduce(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	node := requireKafkajs(ctx, t)
	b := startBroker(t)
	names := transformTopics{"kafkajs-ctp-in", "kafkajs-ctp-out", "kafkajs-ctp-g"}
	assertTransformRunsExactlyOnce(ctx, t, b.Addr(), names, func(tag, end string) []record {
		t.Helper()
		out, _ := run(ctx, t, "", node, kafkajsTxnScript, "transform", "--bootstrap", b.Addr(),
			"--input", names.input, "--output", names.output, "--group", names.group,
			"--transactional-id", "kafkajs-ctp-producer", "--count", "10", "--tag", tag, "--end", end)
		return decodeRecords(t, out)
	})
}

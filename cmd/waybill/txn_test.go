package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
)

// newRawClient is a plain franz-go client for sending hand-built requests.
func newRawClient(t *testing.T, seeds string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// openHangingTxn leaves a transaction open on topic/partition that nothing will end:
// InitProducerId with a ten-minute timeout, AddPartitionsToTxn, one transactional batch
// of values, and never EndTxn. It returns the producer id.
func openHangingTxn(t *testing.T, seeds, txnID, topic string, partition int32, values ...string) int64 {
	t.Helper()
	ctx := testContext(t)
	cl := newRawClient(t, seeds)

	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID = &txnID
	init.TransactionTimeoutMillis = int32((10 * time.Minute).Milliseconds())
	var producerID int64
	var epoch int16
	retryKafka(ctx, t, "InitProducerId", func() error {
		resp, err := init.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		producerID, epoch = resp.ProducerID, resp.ProducerEpoch
		return kerr.ErrorForCode(resp.ErrorCode)
	})

	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = txnID, producerID, epoch
	at := kmsg.NewAddPartitionsToTxnRequestTopic()
	at.Topic, at.Partitions = topic, []int32{partition}
	add.Topics = append(add.Topics, at)
	retryKafka(ctx, t, "AddPartitionsToTxn", func() error {
		resp, err := add.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		var codes []int16
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				codes = append(codes, rp.ErrorCode)
			}
		}
		for _, rtx := range resp.Transactions {
			for _, rt := range rtx.Topics {
				for _, rp := range rt.Partitions {
					codes = append(codes, rp.ErrorCode)
				}
			}
		}
		for _, c := range codes {
			if err := kerr.ErrorForCode(c); err != nil {
				return err
			}
		}
		return nil
	})

	recs := make([]records.Record, len(values))
	for i, v := range values {
		recs[i] = records.Record{Value: []byte(v)}
	}
	batch := records.Build(records.BuildOptions{
		BaseTimestamp: time.Now().UnixMilli(),
		Producer:      &records.ProducerFields{ID: producerID, Epoch: epoch},
		Transactional: true,
	}, recs)
	produce := kmsg.NewPtrProduceRequest()
	produce.TransactionID, produce.Acks, produce.TimeoutMillis = &txnID, -1, 5000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = topic
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Partition, pp.Records = partition, batch
	pt.Partitions = append(pt.Partitions, pp)
	produce.Topics = append(produce.Topics, pt)
	resp, err := produce.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode); err != nil {
		t.Fatalf("transactional produce: %v", err)
	}
	return producerID
}

// retryKafka calls fn until it succeeds, retrying the errors a transaction coordinator
// gives while it loads or finishes a previous transaction.
func retryKafka(ctx context.Context, t *testing.T, what string, fn func() error) {
	t.Helper()
	for {
		err := fn()
		if err == nil {
			return
		}
		var ke *kerr.Error
		if !errors.As(err, &ke) || !ke.Retriable && ke != kerr.ConcurrentTransactions {
			t.Fatalf("%s: %v", what, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v (last: %v)", what, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lastStableOffset is ListOffsets' latest offset of topic/partition under read_committed.
func lastStableOffset(t *testing.T, seeds, topic string, partition int32) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = 1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = partition, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(t), newRawClient(t, seeds))
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		t.Fatal(err)
	}
	return p.Offset
}

// commitTxnRecords writes values to topic/partition in one committed transaction.
func commitTxnRecords(t *testing.T, seeds, txnID, topic string, partition int32, values ...string) {
	t.Helper()
	ctx := testContext(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.TransactionalID(txnID),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
}

func TestTxnListAndDescribeOngoing(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 2)
	ctx := testContext(t)
	producer, err := kgo.NewClient(kgo.SeedBrokers(seeds), kgo.TransactionalID("pay-tx"),
		kgo.TransactionTimeout(45*time.Second), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	if err := producer.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int32{0, 1} {
		if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "orders", Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	id, epoch, err := producer.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid, pepoch := itoa(id), itoa(int64(epoch))

	out := mustRun(t, seeds, "", "txn", "list")
	wantRows(t, out, [][]string{{"TRANSACTIONAL-ID", "PRODUCER-ID", "STATE", "COORDINATOR"}, {"pay-tx", pid, "Ongoing", "1"}})
	out = mustRun(t, seeds, "", "txn", "list", "--state", "ongoing,PrepareCommit")
	wantRow(t, out, "pay-tx", pid, "Ongoing", "1")
	out = mustRun(t, seeds, "", "txn", "list", "--state", "CompleteCommit")
	if hasRowPrefix(out, "pay-tx") {
		t.Errorf("--state CompleteCommit lists the ongoing transaction:\n%s", out)
	}
	res := mustFail(t, seeds, "", "txn", "list", "--state", "running")
	wantErrorWith(t, res.err, nil, `--state "running" is not a transaction state`, "Ongoing")

	out = mustRun(t, seeds, "", "txn", "describe", "pay-tx")
	wantRow(t, out, "TRANSACTIONAL-ID", "pay-tx")
	wantRow(t, out, "STATE", "Ongoing")
	wantRow(t, out, "PRODUCER-ID", pid)
	wantRow(t, out, "PRODUCER-EPOCH", pepoch)
	wantRow(t, out, "TIMEOUT", "45s")
	wantRow(t, out, "PARTITIONS", "orders[0,1]")
	if !strings.Contains(out, "START-TIME") || !strings.Contains(out, " ago)") {
		t.Errorf("describe lacks the start time:\n%s", out)
	}

	res = mustFail(t, seeds, "", "txn", "describe", "pay-tx", "ghost-tx")
	wantErrorWith(t, res.err, kerr.TransactionalIDNotFound, "describe transaction ghost-tx", "waybill txn list")
	wantRow(t, res.stdout, "STATE", "Ongoing") // the known id is still described

	if err := producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
}

func TestTxnFindHangingAndAbort(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 2)
	produceTestRecords(t, seeds, &kgo.Record{Topic: "orders", Partition: 0, Value: []byte("before")})
	stuck0 := openHangingTxn(t, seeds, "stuck-0", "orders", 0, "h1", "h2")
	stuck1 := openHangingTxn(t, seeds, "stuck-1", "orders", 1, "h3")
	commitTxnRecords(t, seeds, "good-tx", "orders", 0, "after")
	if lso := lastStableOffset(t, seeds, "orders", 0); lso != 1 {
		t.Fatalf("last stable offset of orders/0 with the transaction open is %d, want 1", lso)
	}
	out := mustRun(t, seeds, "", "consume", "orders", "-p", "0", "--isolation", "read_committed", "--timeout", "300ms")
	if got := strings.Join(outputLines(out), " "); got != "before" {
		t.Fatalf("read_committed consumer read %q before the abort, want only before", got)
	}

	// Young transactions their coordinator lists as Ongoing with the partition are not
	// hanging: the coordinator will time them out.
	out = mustRun(t, seeds, "", "txn", "find-hanging")
	if !strings.Contains(out, "No hanging transactions") {
		t.Fatalf("find-hanging with the default max timeout:\n%s", out)
	}

	time.Sleep(20 * time.Millisecond)
	out = mustRun(t, seeds, "", "txn", "find-hanging", "--topic", "orders", "--max-transaction-timeout", "10ms")
	wantRow(t, out, "TOPIC", "PARTITION", "PRODUCER-ID", "PRODUCER-EPOCH", "COORDINATOR-EPOCH", "START-OFFSET", "IDLE-FOR", "TRANSACTIONAL-ID", "REASON")
	for _, want := range [][]string{{"orders", "0", itoa(stuck0), "0", "-1", "1", "stuck-0"}, {"orders", "1", itoa(stuck1), "0", "-1", "0", "stuck-1"}} {
		if !hasRowStarting(out, want[:6]...) || !strings.Contains(out, " "+want[6]+" ") {
			t.Errorf("find-hanging lacks a row starting %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "longer than the max transaction timeout 10ms") {
		t.Errorf("find-hanging gives no reason:\n%s", out)
	}

	// The printed command aborts partition 0's transaction.
	abort := abortCommandFor(t, out, "--partition 0 ")
	out = mustRun(t, seeds, "", abort...)
	wantRow(t, out, "orders", "0", itoa(stuck0), "0", "0", "-", "ABORTED")
	// Partition 1's is looked up.
	out = mustRun(t, seeds, "", "txn", "abort", "--topic", "orders", "--partition", "1")
	wantRow(t, out, "TOPIC", "PARTITION", "PRODUCER-ID", "PRODUCER-EPOCH", "COORDINATOR-EPOCH", "START-OFFSET", "STATUS")
	wantRow(t, out, "orders", "1", itoa(stuck1), "0", "0", "0", "ABORTED")

	// before, h1, h2, after, its commit marker, and the abort marker at 5.
	if lso := lastStableOffset(t, seeds, "orders", 0); lso != 6 {
		t.Errorf("last stable offset of orders/0 after the abort is %d, want 6", lso)
	}
	if lso := lastStableOffset(t, seeds, "orders", 1); lso != 2 {
		t.Errorf("last stable offset of orders/1 after the abort is %d, want 2", lso)
	}
	out = mustRun(t, seeds, "", "consume", "orders", "-p", "0", "--isolation", "read_committed", "-n", "2")
	if got := strings.Join(outputLines(out), " "); got != "before after" {
		t.Errorf("read_committed consumer read %q after the abort, want before after", got)
	}
	out = mustRun(t, seeds, "", "txn", "find-hanging", "--max-transaction-timeout", "10ms")
	if !strings.Contains(out, "No hanging transactions") {
		t.Errorf("find-hanging after the aborts:\n%s", out)
	}

	res := mustFail(t, seeds, "", "txn", "abort", "--topic", "orders", "--partition", "0")
	wantErrorWith(t, res.err, nil, "no open transaction on orders/0")
}

func TestTxnAbortRejectsBadTargets(t *testing.T) {
	seeds := startTestCluster(t)
	createTestTopic(t, seeds, "orders", 1)
	res := mustFail(t, seeds, "", "txn", "abort", "--topic", "missing", "--partition", "0")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "topic missing", "waybill topic list")
	res = mustFail(t, seeds, "", "txn", "abort", "--topic", "orders", "--partition", "3")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "topic orders has no partition 3")
	res = mustFail(t, seeds, "", "txn", "abort", "--topic", "orders", "--partition", "0", "--producer-epoch", "1")
	wantErrorWith(t, res.err, nil, "need --producer-id")
	res = mustFail(t, seeds, "", "txn", "abort", "--topic", "orders")
	wantErrorWith(t, res.err, nil, `"partition" not set`)
	res = mustFail(t, seeds, "", "txn", "abort", "--topic", "orders", "--partition", "0", "--producer-id", "77")
	wantErrorWith(t, res.err, nil, "producer 77 has no open transaction on orders/0")
	res = mustFail(t, seeds, "", "txn", "find-hanging", "--topic", "missing")
	wantErrorWith(t, res.err, kerr.UnknownTopicOrPartition, "topic missing")
}

// abortCommandFor returns the arguments of the abort command find-hanging printed for
// the line containing match, without the leading "waybill".
func abortCommandFor(t *testing.T, out, match string) []string {
	t.Helper()
	for _, l := range outputLines(out) {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "waybill" && f[1] == "txn" && strings.Contains(l, match) {
			return f[1:]
		}
	}
	t.Fatalf("no abort command with %q in:\n%s", match, out)
	return nil
}

// hasRowStarting reports whether a line of out begins with these cells.
func hasRowStarting(out string, cells ...string) bool {
	for _, l := range outputLines(out) {
		if f := tableCells(l); len(f) >= len(cells) && strings.Join(f[:len(cells)], " ") == strings.Join(cells, " ") {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

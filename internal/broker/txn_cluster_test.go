package broker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// Transactions on a cluster of three brokers, one replica per partition: the transaction
// coordinator, the group coordinator and the partitions' leaders are different brokers,
// so markers travel as WriteTxnMarkers and KIP-890 verification as AddPartitionsToTxn
// VerifyOnly between brokers.

// txnCluster is a started three-broker cluster and an admin client that knows every
// broker.
type txnCluster struct {
	nodes []*testbroker.Broker
	seeds []string
	cl    *kgo.Client
	adm   *kadm.Client
}

func startTxnCluster(t *testing.T, opts ...testbroker.Option) txnCluster {
	t.Helper()
	nodes := testbroker.StartCluster(t, 3, opts...)
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr())
	}
	cl := testbroker.NewClient(t, seeds[0], kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(50*time.Millisecond))
	return txnCluster{nodes: nodes, seeds: seeds, cl: cl, adm: kadm.NewClient(cl)}
}

// client is a franz-go client seeded with every broker.
func (c txnCluster) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	return testbroker.NewClient(t, c.seeds[0], append([]kgo.Opt{kgo.SeedBrokers(c.seeds...)}, opts...)...)
}

// createSpread creates topic and returns its partitions' leaders, which must use all
// three brokers.
func (c txnCluster) createSpread(ctx context.Context, t *testing.T, topic string, partitions int) []int32 {
	t.Helper()
	createTopic(ctx, t, c.cl, topic, int32(partitions), nil)
	leaders := waitForLeaders(ctx, t, c.nodes, topic, partitions)
	if distinct(leaders) != 3 {
		t.Fatalf("leaders of %s %v use %d of 3 brokers", topic, leaders, distinct(leaders))
	}
	return leaders
}

// coordinator returns the node coordinating a transactional id (txn) or a group,
// retrying while the coordinator topic is being created.
func (c txnCluster) coordinator(ctx context.Context, t *testing.T, txn bool, key string) int32 {
	t.Helper()
	var node int32
	retryRetriable(ctx, t, "FindCoordinator "+key, func() error {
		var r kadm.FindCoordinatorResponses
		if txn {
			r = c.adm.FindTxnCoordinators(ctx, key)
		} else {
			r = c.adm.FindGroupCoordinators(ctx, key)
		}
		found := r[key]
		node = found.NodeID
		return found.Err
	})
	return node
}

// keyCoordinatedBy returns the first of prefix-0, prefix-1, ... whose coordinator passes
// ok, with that coordinator. Keys hash over 50 partitions spread over three brokers, so a
// few tries find one.
func (c txnCluster) keyCoordinatedBy(ctx context.Context, t *testing.T, txn bool, prefix string, ok func(int32) bool) (string, int32) {
	t.Helper()
	for i := range 100 {
		key := fmt.Sprintf("%s-%d", prefix, i)
		if node := c.coordinator(ctx, t, txn, key); ok(node) {
			return key, node
		}
	}
	t.Fatalf("no key %s-N has a suitable coordinator", prefix)
	return "", -1
}

// waitStable waits until every partition of topic has its last stable offset at its
// high watermark: every transaction on it has its marker.
func (c txnCluster) waitStable(ctx context.Context, t *testing.T, topic string) {
	t.Helper()
	waitFor(ctx, t, "every transaction on "+topic+" has its marker", func() bool {
		end, err := c.adm.ListEndOffsets(ctx, topic)
		if err != nil || end.Error() != nil {
			return false
		}
		stable, err := c.adm.ListCommittedOffsets(ctx, topic)
		if err != nil || stable.Error() != nil {
			return false
		}
		same := true
		end.Each(func(o kadm.ListedOffset) {
			s, ok := stable.Lookup(topic, o.Partition)
			same = same && ok && s.Offset == o.Offset
		})
		return same
	})
}

// A transactional producer whose coordinator is one broker writes to six partitions led
// by all three; some transactions commit, others abort. The coordinator's markers reach
// every leader, so read_committed consumers see exactly the committed records and
// read_uncommitted ones see them all.
func TestClusterTransactionsSpanBrokers(t *testing.T) {
	c := startTxnCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const topic, partitions, perPartition, rounds = "spanned", 6, 5, 7
	leaders := c.createSpread(ctx, t, topic, partitions)
	txnID, coordinator := c.keyCoordinatedBy(ctx, t, true, "spanned-tx", func(int32) bool { return true })
	t.Logf("transaction coordinator %d, partition leaders %v", coordinator, leaders)

	producer := c.client(t, kgo.TransactionalID(txnID), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var committed, all []string
	for round := range rounds {
		if err := producer.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for p := range int32(partitions) {
			for i := range perPartition {
				v := fmt.Sprintf("r%d-p%d-%d", round, p, i)
				recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)})
				all = append(all, v)
				if round%2 == 0 {
					committed = append(committed, v)
				}
			}
		}
		if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		// The last round commits, so every aborted record lies before a committed one on
		// its partition and a read_committed reader of all committed records has passed
		// them all.
		if err := producer.EndTransaction(ctx, kgo.TransactionEndTry(round%2 == 0)); err != nil {
			t.Fatalf("ending round %d: %v", round, err)
		}
	}

	c.waitStable(ctx, t, topic)
	waitFor(ctx, t, "the last transaction is complete on its coordinator", func() bool {
		described, err := c.adm.DescribeTransactions(ctx, txnID)
		if err != nil {
			return false
		}
		d, ok := described[txnID]
		return ok && d.Err == nil && d.State == "CompleteCommit" && len(d.Topics) == 0
	})
	if got := consumeAll(ctx, t, c.seeds[0], topic, kgo.ReadCommitted(), len(committed)); !sameSet(got, committed) {
		t.Errorf("read_committed read %d values, want exactly the %d committed", len(got), len(committed))
	}
	if got := consumeAll(ctx, t, c.seeds[1], topic, kgo.ReadUncommitted(), len(all)); !sameSet(got, all) {
		t.Errorf("read_uncommitted read %d values, want all %d", len(got), len(all))
	}
}

// A consume-transform-produce loop whose group coordinator is another broker than its
// transaction coordinator, over partitions led by all three: TxnOffsetCommit is verified
// with the remote transaction coordinator, and the markers settle the offsets on the
// group coordinator. Every input is transformed exactly once in the committed output,
// however many attempts were aborted and redone.
func TestClusterConsumeTransformProduce(t *testing.T) {
	c := startTxnCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const in, out, partitions, values = "etl-in", "etl-out", 6, 120
	c.createSpread(ctx, t, in, partitions)
	c.createSpread(ctx, t, out, partitions)
	txnID, txnCoordinator := c.keyCoordinatedBy(ctx, t, true, "etl-tx", func(int32) bool { return true })
	group, groupCoordinator := c.keyCoordinatedBy(ctx, t, false, "etl-g", func(n int32) bool { return n != txnCoordinator })
	t.Logf("transaction coordinator %d, group coordinator %d", txnCoordinator, groupCoordinator)

	var input []*kgo.Record
	var want []string
	for i := range values {
		v := fmt.Sprintf("in-%d", i)
		input = append(input, &kgo.Record{Topic: in, Partition: int32(i % partitions), Value: []byte(v)})
		want = append(want, "out-"+v)
	}
	if err := c.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())).ProduceSync(ctx, input...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(c.seeds...), kgo.TransactionalID(txnID),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(in), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()

	done := map[string]bool{}
	aborted := 0 // records written by aborted attempts
	for attempt := 0; len(done) < values; attempt++ {
		fetches := sess.PollRecords(ctx, 20)
		if ctx.Err() != nil {
			t.Fatalf("after %d attempts, %d of %d inputs transformed: %v", attempt, len(done), values, ctx.Err())
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("polling %s[%d]: %v", topic, p, err) })
		recs := fetches.Records()
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		var outs []*kgo.Record
		for _, r := range recs {
			outs = append(outs, &kgo.Record{Topic: out, Partition: r.Partition, Value: []byte("out-" + string(r.Value))})
		}
		// Flushed before ending, so an aborted attempt's records are in the log too.
		if err := sess.ProduceSync(ctx, outs...).FirstErr(); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		commit := attempt%3 != 1
		ok, err := sess.End(ctx, kgo.TransactionEndTry(commit))
		if err != nil {
			t.Fatalf("ending attempt %d: %v", attempt, err)
		}
		if !ok {
			if commit {
				t.Logf("attempt %d aborted instead of committing (the group rebalanced)", attempt)
			}
			aborted += len(outs)
			continue
		}
		for _, r := range recs {
			if done[string(r.Value)] {
				t.Fatalf("input %s transformed by two committed transactions", r.Value)
			}
			done[string(r.Value)] = true
		}
	}
	if aborted == 0 {
		t.Fatal("no attempt with records was aborted")
	}

	c.waitStable(ctx, t, out)
	got := consumeAll(ctx, t, c.seeds[2], out, kgo.ReadCommitted(), values)
	if !sameSet(got, want) {
		t.Errorf("read_committed read %d values, want each of the %d inputs transformed once", len(got), values)
	}
	if got := consumeAll(ctx, t, c.seeds[0], out, kgo.ReadUncommitted(), values+aborted); len(got) != values+aborted {
		t.Errorf("read_uncommitted read %d values, want %d committed and %d aborted", len(got), values, aborted)
	}

	// The committed offsets, stored on the group coordinator, reach the input's end once
	// the last transaction's marker is written there.
	end, err := c.adm.ListEndOffsets(ctx, in)
	if err == nil {
		err = end.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "group "+group+" committed the input's end offsets", func() bool {
		fetched, err := c.adm.FetchOffsets(ctx, group)
		if err != nil || fetched.Error() != nil {
			return false
		}
		all := true
		end.Each(func(o kadm.ListedOffset) {
			f, ok := fetched.Lookup(in, o.Partition)
			all = all && ok && f.At == o.Offset
		})
		return all
	})
}

// The KIP-890 check of a transactional produce goes to the transaction coordinator on
// another broker: a partition added to the transaction takes the batch, one not added
// refuses it (INVALID_TXN_STATE), a fenced epoch is INVALID_PRODUCER_EPOCH, and with the
// coordinator down the batch is refused as retriable (NOT_ENOUGH_REPLICAS), not appended.
func TestClusterVerifiesTransactionalProduceWithRemoteCoordinator(t *testing.T) {
	// One replica of __transaction_state, so that a stopped coordinator has no
	// successor and verification has nowhere to go.
	c := startTxnCluster(t, testbroker.WithBrokerConfig(map[string]string{"transaction.state.log.replication.factor": "1"}))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const topic, partitions = "verified", 6
	leaders := c.createSpread(ctx, t, topic, partitions)
	txnID, coordinator := c.keyCoordinatedBy(ctx, t, true, "verified-tx", func(int32) bool { return true })
	var elsewhere []int32 // partitions led by another broker than the coordinator
	for p, l := range leaders {
		if l != coordinator {
			elsewhere = append(elsewhere, int32(p))
		}
	}
	if len(elsewhere) < 2 {
		t.Fatalf("coordinator %d leads all but %v of %v", coordinator, elsewhere, leaders)
	}
	added, notAdded := elsewhere[0], elsewhere[1]

	tx := initTxnProducer(ctx, t, c.cl, txnID, 10*time.Minute)
	addPartition(ctx, t, c.cl, txnID, tx, topic, added)
	if code := produceTxn(ctx, t, c.cl, leaders[added], txnID, topic, added, tx, 0, "in-txn"); code != 0 {
		t.Fatalf("batch to a partition added to the transaction: %v", kerr.ErrorForCode(code))
	}
	if code := produceTxn(ctx, t, c.cl, leaders[notAdded], txnID, topic, notAdded, tx, 0, "stray"); code != kerr.InvalidTxnState.Code {
		t.Fatalf("batch to a partition not added: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}

	// The coordinator answers brokers' AddPartitionsToTxn VerifyOnly per partition; a
	// broker that does not coordinate the id says so.
	verify := verifyOnly(ctx, t, c.cl, coordinator, txnID, tx, topic, added, notAdded)
	if verify[added] != 0 || verify[notAdded] != kerr.InvalidTxnState.Code {
		t.Fatalf("VerifyOnly at the coordinator: %v, want success for %d and INVALID_TXN_STATE for %d", verify, added, notAdded)
	}
	other := leaders[added] // not the coordinator
	if verify := verifyOnly(ctx, t, c.cl, other, txnID, tx, topic, added); verify[added] != kerr.NotCoordinator.Code {
		t.Fatalf("VerifyOnly at broker %d, which does not coordinate %s: %v", other, txnID, kerr.ErrorForCode(verify[added]))
	}
	// A marker sent to a broker that does not lead the partition is refused there.
	if code := writeMarkerAt(ctx, t, c.cl, coordinator, topic, added, tx); code != kerr.NotLeaderForPartition.Code {
		t.Fatalf("WriteTxnMarkers at broker %d for a partition led by %d: %v", coordinator, leaders[added], kerr.ErrorForCode(code))
	}

	// A new producer with the same id fences the old one: the coordinator aborts the open
	// transaction with markers on the remote leader, and the old epoch is refused.
	fresh := initTxnProducer(ctx, t, c.cl, txnID, 10*time.Minute)
	if code := produceTxn(ctx, t, c.cl, leaders[notAdded], txnID, topic, notAdded, tx, 0, "zombie"); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("batch of the fenced epoch: %v, want INVALID_PRODUCER_EPOCH", kerr.ErrorForCode(code))
	}
	// The abort marker follows the one record on the added partition; nothing reached
	// the other.
	c.waitStable(ctx, t, topic)
	if hw := listOffset(ctx, t, c.cl.Broker(int(leaders[added])), topic, added, 0); hw != 2 {
		t.Fatalf("high watermark of the added partition %d, want 2 (the record and the abort marker)", hw)
	}
	if hw := listOffset(ctx, t, c.cl.Broker(int(leaders[notAdded])), topic, notAdded, 0); hw != 0 {
		t.Fatalf("high watermark of the partition never added %d, want 0", hw)
	}

	// With the coordinator down, nothing can be verified: the producer is told to retry
	// and the batch is not appended.
	addPartition(ctx, t, c.cl, txnID, fresh, topic, added)
	if code := produceTxn(ctx, t, c.cl, leaders[added], txnID, topic, added, fresh, 0, "before"); code != 0 {
		t.Fatalf("batch of the new epoch: %v", kerr.ErrorForCode(code))
	}
	hw := listOffset(ctx, t, c.cl.Broker(int(leaders[added])), topic, added, 0)
	c.nodes[coordinator-1].Stop()
	if code := produceTxn(ctx, t, c.cl, leaders[added], txnID, topic, added, fresh, 1, "unverified"); code != kerr.NotEnoughReplicas.Code {
		t.Fatalf("batch with the coordinator down: %v, want NOT_ENOUGH_REPLICAS", kerr.ErrorForCode(code))
	}
	if after := listOffset(ctx, t, c.cl.Broker(int(leaders[added])), topic, added, 0); after != hw {
		t.Fatalf("high watermark moved from %d to %d: the unverified batch was appended", hw, after)
	}
}

// A commit whose markers cannot reach a partition's leader, because that broker is down,
// completes once it is back: the coordinator keeps retrying at whichever broker the
// metadata names, and meanwhile reports the partitions still waiting for a marker.
func TestClusterMarkersWaitForAnOfflineLeader(t *testing.T) {
	c := startTxnCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const topic, partitions = "offline", 6
	leaders := c.createSpread(ctx, t, topic, partitions)
	txnID, coordinator := c.keyCoordinatedBy(ctx, t, true, "offline-tx", func(int32) bool { return true })
	down := leaders[slices.IndexFunc(leaders, func(l int32) bool { return l != coordinator })]
	var pending []int32 // the partitions of the broker that goes down
	for p, l := range leaders {
		if l == down {
			pending = append(pending, int32(p))
		}
	}

	producer := c.client(t, kgo.TransactionalID(txnID), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := producer.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	var want []string
	for p := range int32(partitions) {
		v := fmt.Sprintf("p%d", p)
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)})
		want = append(want, v)
	}
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c.nodes[down-1].Stop()
	if err := producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, fmt.Sprintf("markers written everywhere but on broker %d", down), func() bool {
		described, err := c.adm.DescribeTransactions(ctx, txnID)
		if err != nil {
			return false
		}
		d := described[txnID]
		left := d.Topics[topic]
		return d.Err == nil && d.State == "PrepareCommit" && len(d.Topics) == 1 && len(left) == len(pending) &&
			!slices.ContainsFunc(pending, func(p int32) bool { _, ok := left[p]; return !ok })
	})

	testbroker.StartAll(t, c.nodes[down-1])
	waitFor(ctx, t, "the transaction is complete", func() bool {
		described, err := c.adm.DescribeTransactions(ctx, txnID)
		if err != nil {
			return false
		}
		d := described[txnID]
		return d.Err == nil && d.State == "CompleteCommit"
	})
	c.waitStable(ctx, t, topic)
	if got := consumeAll(ctx, t, c.seeds[0], topic, kgo.ReadCommitted(), len(want)); !sameSet(got, want) {
		t.Errorf("read_committed read %q, want %q", got, want)
	}
}

// produceTxn sends one transactional batch of tx, starting at sequence seq, to
// topic/partition on broker leader, and returns the partition's error code.
func produceTxn(ctx context.Context, t *testing.T, cl *kgo.Client, leader int32, txnID, topic string, partition int32,
	tx rawTxn, seq int32, values ...string) int16 {
	t.Helper()
	req := produceRequest(topic, txnBatch(tx, seq, values...))
	req.Topics[0].Partitions[0].Partition = partition
	req.TransactionID = &txnID
	resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// verifyOnly sends AddPartitionsToTxn v4+ VerifyOnly, as a broker does, to node and
// returns each partition's error code.
func verifyOnly(ctx context.Context, t *testing.T, cl *kgo.Client, node int32, txnID string, tx rawTxn,
	topic string, partitions ...int32) map[int32]int16 {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	rtx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, rtx.VerifyOnly = txnID, tx.producerID, tx.epoch, true
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = topic, partitions
	rtx.Topics = append(rtx.Topics, rt)
	req.Transactions = append(req.Transactions, rtx)
	resp, err := req.RequestWith(ctx, cl.Broker(int(node)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Version < 4 || resp.ErrorCode != 0 || len(resp.Transactions) != 1 || resp.Transactions[0].TransactionalID != txnID {
		t.Fatalf("VerifyOnly answer v%d: %+v", resp.Version, resp)
	}
	codes := map[int32]int16{}
	for _, rt := range resp.Transactions[0].Topics {
		for _, rp := range rt.Partitions {
			codes[rp.Partition] = rp.ErrorCode
		}
	}
	return codes
}

// writeMarkerAt sends an abort marker for tx on topic/partition to node and returns the
// partition's error code.
func writeMarkerAt(ctx context.Context, t *testing.T, cl *kgo.Client, node int32, topic string, partition int32, tx rawTxn) int16 {
	t.Helper()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch = tx.producerID, tx.epoch
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, []int32{partition}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	resp, err := req.RequestWith(ctx, cl.Broker(int(node)))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Markers[0].Topics[0].Partitions[0].ErrorCode
}

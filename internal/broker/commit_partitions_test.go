package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/waybill/waybill/internal/testbroker"
)

// committed is one partition's offset in a commit, and the error code expected for it.
type committed struct {
	topic     string
	partition int32
	offset    int64
	code      int16
}

var unknownTopicOrPartition = kerr.UnknownTopicOrPartition.Code

// TestOffsetCommitRefusesMissingPartitions: every advertised OffsetCommit version answers
// UNKNOWN_TOPIC_OR_PARTITION, and stores nothing, for a topic that never existed, a
// deleted topic and a partition past an existing topic's count, while the same request's
// existing partitions are committed; the auto-created __consumer_offsets exists.
func TestOffsetCommitRefusesMissingPartitions(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr())
	createTopic(ctx, t, cl, "kept", 2, nil)
	createTopic(ctx, t, cl, "doomed", 1, nil)
	deleteTopic(ctx, t, cl, "doomed")

	for v := int16(2); v <= 9; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			group := fmt.Sprintf("missing-v%d", v)
			commits := []committed{
				{"kept", 0, 10, 0},
				{"kept", 2, 11, unknownTopicOrPartition},
				{"no-such-topic", 0, 12, unknownTopicOrPartition},
				{"doomed", 0, 13, unknownTopicOrPartition},
				{"__consumer_offsets", 0, 14, 0},
			}
			req := kmsg.NewPtrOffsetCommitRequest()
			req.Group, req.Generation = group, -1
			for _, c := range commits {
				rt := kmsg.NewOffsetCommitRequestTopic()
				rt.Topic = c.topic
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Partition, rp.Offset = c.partition, c.offset
				rt.Partitions = append(rt.Partitions, rp)
				req.Topics = append(req.Topics, rt)
			}
			versions := kversion.Stable()
			versions.SetMaxKeyVersion(int16(kmsg.OffsetCommit), v)
			resp, err := req.RequestWith(ctx, newClient(t, b.Addr(), kgo.MaxVersions(versions)))
			if err != nil {
				t.Fatal(err)
			}
			if req.Version != v {
				t.Fatalf("sent OffsetCommit v%d, want v%d", req.Version, v)
			}
			got := map[string]int16{}
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					got[fmt.Sprintf("%s/%d", rt.Topic, rp.Partition)] = rp.ErrorCode
				}
			}
			checkCommitCodes(t, commits, got)
			checkStoredOffsets(ctx, t, cl, group, commits)
		})
	}
}

// TestTxnOffsetCommitRefusesMissingPartitions: a transaction's offsets for a topic that
// does not exist and for a partition past an existing topic's count are answered
// UNKNOWN_TOPIC_OR_PARTITION, the existing partition's offset commits with the
// transaction, and a commit of nothing but missing partitions is answered so without the
// group being in any transaction.
func TestTxnOffsetCommitRefusesMissingPartitions(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr())
	createTopic(ctx, t, cl, "kept", 2, nil)
	const txnID, group = "txn-missing", "txn-missing-g"
	tx := initTxnProducer(ctx, t, cl, txnID, time.Minute)

	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = txnID, tx.producerID, tx.epoch, group
	retryRetriable(ctx, t, "AddOffsetsToTxn", func() error {
		resp, err := add.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	})
	commits := []committed{
		{"kept", 0, 7, 0},
		{"kept", 2, 8, unknownTopicOrPartition},
		{"no-such-topic", 0, 9, unknownTopicOrPartition},
	}
	checkCommitCodes(t, commits, txnOffsetCommit(ctx, t, cl, txnID, group, tx, commits))

	end := kmsg.NewPtrEndTxnRequest()
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = txnID, tx.producerID, tx.epoch, true
	retryRetriable(ctx, t, "EndTxn", func() error {
		resp, err := end.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	})
	checkStoredOffsets(ctx, t, cl, group, commits)

	// Nothing is left for the coordinator, so the transaction is not even checked.
	const otherID = "txn-missing-only"
	other := initTxnProducer(ctx, t, cl, otherID, time.Minute)
	onlyMissing := []committed{{"no-such-topic", 0, 1, unknownTopicOrPartition}, {"kept", 5, 1, unknownTopicOrPartition}}
	checkCommitCodes(t, onlyMissing, txnOffsetCommit(ctx, t, cl, otherID, "txn-missing-only-g", other, onlyMissing))
}

// initTxnProducer gets a producer id and epoch for txnID, whose transactions time out
// after timeout.
func initTxnProducer(ctx context.Context, t *testing.T, cl *kgo.Client, txnID string, timeout time.Duration) rawTxn {
	t.Helper()
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID = &txnID
	init.TransactionTimeoutMillis = int32(timeout.Milliseconds())
	var tx rawTxn
	retryRetriable(ctx, t, "InitProducerId", func() error {
		resp, err := init.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		tx = rawTxn{producerID: resp.ProducerID, epoch: resp.ProducerEpoch}
		return kerr.ErrorForCode(resp.ErrorCode)
	})
	return tx
}

// txnOffsetCommit sends commits as one TxnOffsetCommit and returns each partition's
// error code by "topic/partition".
func txnOffsetCommit(ctx context.Context, t *testing.T, cl *kgo.Client, txnID, group string, tx rawTxn, commits []committed) map[string]int16 {
	t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = txnID, group, tx.producerID, tx.epoch
	req.Generation = -1
	for _, c := range commits {
		rt := kmsg.NewTxnOffsetCommitRequestTopic()
		rt.Topic = c.topic
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = c.partition, c.offset
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int16{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			got[fmt.Sprintf("%s/%d", rt.Topic, rp.Partition)] = rp.ErrorCode
		}
	}
	return got
}

// checkCommitCodes compares a commit's per-partition answer with what commits expect.
func checkCommitCodes(t *testing.T, commits []committed, got map[string]int16) {
	t.Helper()
	if len(got) != len(commits) {
		t.Errorf("answer covers %d partitions, want %d: %v", len(got), len(commits), got)
	}
	for _, c := range commits {
		key := fmt.Sprintf("%s/%d", c.topic, c.partition)
		if code, ok := got[key]; !ok || code != c.code {
			t.Errorf("%s: error %v (answered %v), want %v", key, kerr.ErrorForCode(code), ok, kerr.ErrorForCode(c.code))
		}
	}
}

// checkStoredOffsets checks that group's committed offsets are exactly the accepted
// commits: all of them listed, and the refused partitions asked for by name answer -1.
// A transaction's offsets appear once its commit marker is written, so a pending one is
// waited for.
func checkStoredOffsets(ctx context.Context, t *testing.T, cl *kgo.Client, group string, commits []committed) {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group, req.RequireStable = group, true
	want := map[string]int64{}
	for _, c := range commits {
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = c.topic, []int32{c.partition}
		req.Topics = append(req.Topics, rt)
		if c.code == 0 {
			want[fmt.Sprintf("%s/%d", c.topic, c.partition)] = c.offset
		}
	}
	got := map[string]int64{}
	retryRetriable(ctx, t, "OffsetFetch", func() error {
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return err
				}
				got[fmt.Sprintf("%s/%d", rt.Topic, rp.Partition)] = rp.Offset
			}
		}
		return nil
	})
	all, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err == nil {
		err = all.Error()
	}
	if err != nil {
		t.Fatalf("fetching the offsets of %s: %v", group, err)
	}
	for _, c := range commits {
		key := fmt.Sprintf("%s/%d", c.topic, c.partition)
		w, ok := want[key]
		if !ok {
			w = -1
		}
		if got[key] != w {
			t.Errorf("OffsetFetch %s: offset %d, want %d", key, got[key], w)
		}
		if o, listed := all.Lookup(c.topic, c.partition); listed != ok || listed && o.At != w {
			t.Errorf("all of %s's offsets: %s listed %v at %d, want listed %v at %d", group, key, listed, o.At, ok, w)
		}
	}
	if n := len(all.Sorted()); n != len(want) {
		t.Errorf("%s has %d committed offsets, want %d", group, n, len(want))
	}
}

// deleteTopic deletes topic and fails the test on any error.
func deleteTopic(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) {
	t.Helper()
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("deleting %s: %v", topic, err)
	}
}

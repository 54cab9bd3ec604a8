package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// writeAbortMarker sends WriteTxnMarkers (abort) for one partition straight to the
// broker, as KIP-664's admin abort does, and returns the partition's error.
func writeAbortMarker(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partition int32,
	producerID int64, epoch int16, coordinatorEpoch int32) error {
	t.Helper()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, m.Committed = producerID, epoch, coordinatorEpoch, false
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, []int32{partition}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	resp, err := req.RequestWith(ctx, cl.Broker(1))
	if err != nil {
		t.Fatal(err)
	}
	return kerr.ErrorForCode(resp.Markers[0].Topics[0].Partitions[0].ErrorCode)
}

// listOffset returns ListOffsets' latest offset of topic/partition at the isolation
// level: the high watermark (0) or the last stable offset (1). r is the client, which
// routes to the leader, or one broker of it.
func listOffset(ctx context.Context, t *testing.T, r kmsg.Requestor, topic string, partition int32, isolation int8) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = partition, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		t.Fatalf("latest offset of %s[%d]: %v", topic, partition, err)
	}
	return p.Offset
}

func TestWriteTxnMarkersAbortsHangingTransaction(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr())
	createTopic(ctx, t, cl, "hung", 1, nil)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "hung", Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	tx := openRawTxn(ctx, t, cl, "hung-tx", "hung", "h1", "h2")
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "hung", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if hw, lso := listOffset(ctx, t, cl, "hung", 0, 0), listOffset(ctx, t, cl, "hung", 0, 1); hw != 4 || lso != 1 {
		t.Fatalf("with the transaction open: high watermark %d, last stable offset %d; want 4 and 1", hw, lso)
	}
	open := producerOf(t, describeProducers(ctx, t, cl, "hung", 0), tx.producerID)
	if open.CurrentTxnStartOffset != 1 {
		t.Fatalf("DescribeProducers: %+v, want the transaction open from offset 1", open)
	}

	if err := writeAbortMarker(ctx, t, cl, "hung", 1, tx.producerID, tx.epoch, 0); err != kerr.UnknownTopicOrPartition {
		t.Errorf("marker to a missing partition: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
	if err := writeAbortMarker(ctx, t, cl, "hung", 0, tx.producerID, tx.epoch, max(open.CoordinatorEpoch, 0)); err != nil {
		t.Fatalf("abort marker: %v", err)
	}
	// The marker is at offset 4; the LSO reaches the high watermark past it.
	if hw, lso := listOffset(ctx, t, cl, "hung", 0, 0), listOffset(ctx, t, cl, "hung", 0, 1); hw != 5 || lso != 5 {
		t.Fatalf("after the abort: high watermark %d, last stable offset %d; want 5 and 5", hw, lso)
	}
	if p := producerOf(t, describeProducers(ctx, t, cl, "hung", 0), tx.producerID); p.CurrentTxnStartOffset != -1 || p.CoordinatorEpoch != 0 {
		t.Errorf("after the abort DescribeProducers says %+v, want no open transaction, coordinator epoch 0", p)
	}
	if got := consumeAll(ctx, t, b.Addr(), "hung", kgo.ReadCommitted(), 2); !sameSet(got, []string{"before", "after"}) {
		t.Errorf("read_committed consumer read %q, want before and after", got)
	}
	// A marker from an older coordinator epoch than the last one is fenced.
	if err := writeAbortMarker(ctx, t, cl, "hung", 0, tx.producerID, tx.epoch, -1); err != kerr.TransactionCoordinatorFenced {
		t.Errorf("marker from an older coordinator epoch: %v, want TRANSACTION_COORDINATOR_FENCED", err)
	}
}

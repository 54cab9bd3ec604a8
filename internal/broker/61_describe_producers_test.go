package broker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/testbroker"
)

// describeProducers returns DescribeProducers' answer for one partition.
func describeProducers(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partition int32) kmsg.DescribeProducersResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	// Sent to the broker directly: the client's sharding would answer for unknown
	// partitions itself.
	resp, err := req.RequestWith(ctx, cl.Broker(1))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}

// rawTxn is a transaction opened with raw requests that nothing will end: its producer
// never sends EndTxn, and its timeout is long.
type rawTxn struct {
	producerID int64
	epoch      int16
}

// openRawTxn begins transaction txnID with a ten-minute timeout, adds topic/partition 0
// and writes values there in one transactional batch.
func openRawTxn(ctx context.Context, t *testing.T, cl *kgo.Client, txnID, topic string, values ...string) rawTxn {
	t.Helper()
	tx := initTxnProducer(ctx, t, cl, txnID, 10*time.Minute)
	addPartition(ctx, t, cl, txnID, tx, topic, 0)
	produce := produceRequest(topic, txnBatch(tx, 0, values...))
	produce.TransactionID = &txnID
	if p := sendProduce(ctx, t, cl, produce); p.ErrorCode != 0 {
		t.Fatalf("transactional produce: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	return tx
}

// addPartition adds topic/partition to the producer's transaction (AddPartitionsToTxn
// v3, through the client, which finds the coordinator), retrying retriable errors.
func addPartition(ctx context.Context, t *testing.T, cl *kgo.Client, txnID string, tx rawTxn, topic string, partition int32) {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = txnID, tx.producerID, tx.epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	retryRetriable(ctx, t, "AddPartitionsToTxn", func() error {
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		for _, rtx := range resp.Transactions { // the client answers in the v4 layout
			for _, rt := range rtx.Topics {
				for _, rp := range rt.Partitions {
					if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
						return err
					}
				}
			}
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// txnBatch is a transactional batch of tx holding values, from sequence seq.
func txnBatch(tx rawTxn, seq int32, values ...string) []byte {
	recs := make([]records.Record, len(values))
	for i, v := range values {
		recs[i] = records.Record{Value: []byte(v)}
	}
	return records.Build(records.BuildOptions{
		BaseTimestamp: time.Now().UnixMilli(),
		Producer:      &records.ProducerFields{ID: tx.producerID, Epoch: tx.epoch, BaseSequence: seq},
		Transactional: true,
	}, recs)
}

// sendProduce sends a prepared produce request and returns its one partition's answer.
func sendProduce(ctx context.Context, t *testing.T, cl *kgo.Client, req *kmsg.ProduceRequest) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}

// retryRetriable calls fn until it succeeds, retrying Kafka's retriable errors (the
// transaction coordinator loading, or finishing a previous transaction).
func retryRetriable(ctx context.Context, t *testing.T, what string, fn func() error) {
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

func TestDescribeProducersShowsOpenTransaction(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr())
	createTopic(ctx, t, cl, "described", 1, nil)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "described", Value: []byte("plain")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	producer := newClient(t, b.Addr(), kgo.TransactionalID("describe-tx"), kgo.DefaultProduceTopic("described"))
	if err := producer.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	id, epoch, err := producer.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open := producerOf(t, describeProducers(ctx, t, cl, "described", 0), id)
	if open.CurrentTxnStartOffset != 1 || open.LastSequence != 2 || open.CoordinatorEpoch != -1 || open.ProducerEpoch != int32(epoch) {
		t.Errorf("open transaction described as %+v, want start offset 1, last sequence 2, coordinator epoch -1, producer epoch %d", open, epoch)
	}
	if age := time.Since(time.UnixMilli(open.LastTimestamp)); age < 0 || age > time.Minute {
		t.Errorf("last timestamp %d is %s from now", open.LastTimestamp, age)
	}

	if err := producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// The coordinator writes the markers after EndTxn returns.
	ended := producerOf(t, describeProducers(ctx, t, cl, "described", 0), id)
	for ended.CurrentTxnStartOffset >= 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		ended = producerOf(t, describeProducers(ctx, t, cl, "described", 0), id)
	}
	if ended.CurrentTxnStartOffset != -1 || ended.CoordinatorEpoch < 0 {
		t.Errorf("after commit described as %+v, want no open transaction and a coordinator epoch", ended)
	}

	for _, c := range []struct {
		topic     string
		partition int32
	}{{"described", 1}, {"described", -1}, {"missing", 0}} {
		p := describeProducers(ctx, t, cl, c.topic, c.partition)
		if err := kerr.ErrorForCode(p.ErrorCode); err != kerr.UnknownTopicOrPartition {
			t.Errorf("%s/%d: error %v, want UNKNOWN_TOPIC_OR_PARTITION", c.topic, c.partition, err)
		}
	}
}

// producerOf is producer id's entry in DescribeProducers' answer p.
func producerOf(t *testing.T, p kmsg.DescribeProducersResponseTopicPartition, id int64) kmsg.DescribeProducersResponseTopicPartitionActiveProducer {
	t.Helper()
	if p.ErrorCode != 0 {
		t.Fatalf("DescribeProducers: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	for _, ap := range p.ActiveProducers {
		if ap.ProducerID == id {
			return ap
		}
	}
	t.Fatalf("producer %d not among %+v", id, p.ActiveProducers)
	return kmsg.DescribeProducersResponseTopicPartitionActiveProducer{}
}

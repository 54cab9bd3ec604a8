package compat_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceInput appends values to topic's partition with franz-go, outside any
// transaction: the input of a consume-transform-produce test. The batches are not
// compressed, as kafkajs reads only gzip without a codec plugin.
func produceInput(ctx context.Context, t *testing.T, addr, topic string, partition int32, values []string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("producing input to %s/%d: %v", topic, partition, err)
	}
}

// transformed is what a consume-transform-produce test writes for an input value in a
// transaction named txn; naming the transaction tells a retried input's outputs apart.
func transformed(txn string, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = txn + ":" + v
	}
	return out
}

package bench

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// producerOptions tunes a kgo client for throughput: large batches, a short linger, a
// deep buffer (bounded in bytes so closed-loop latency stays meaningful) and, with
// idempotence, kgo's maximum of 5 produce requests in flight per broker.
func (w Workload) producerOptions(seeds []string, topic string) ([]kgo.Opt, error) {
	acks, err := w.acks()
	if err != nil {
		return nil, err
	}
	codec, err := w.compression()
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("waybill-bench"),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerBatchMaxBytes(w.BatchMaxBytes),
		kgo.ProducerLinger(w.Linger),
		kgo.MaxBufferedRecords(1 << 20),
		kgo.MaxBufferedBytes(w.MaxBufferedMiB << 20),
		kgo.RecordRetries(10),
		kgo.ProduceRequestTimeout(w.RequestTimeouts),
	}
	if !w.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	return opts, nil
}

// consumerOptions reads the given partitions of topic from the start, with fetches large
// enough that the client is not the bottleneck. Control records (transaction markers)
// are kept so that the consume can count them towards the offsets it waits for; after
// transactional producing it reads committed records only, as such a consumer would.
func (w Workload) consumerOptions(seeds []string, topic string, partitions []int32) []kgo.Opt {
	offsets := make(map[int32]kgo.Offset, len(partitions))
	for _, p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("waybill-bench"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxBytes(w.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(w.FetchPartBytes),
		kgo.FetchMaxWait(500 * time.Millisecond), // only matters once caught up
		kgo.BrokerMaxReadBytes(2 * w.FetchMaxBytes),
		kgo.KeepControlRecords(),
	}
	if w.Transactional {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	return opts
}

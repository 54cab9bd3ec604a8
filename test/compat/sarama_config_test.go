package compat_test

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// saramaVersions are the Kafka versions sarama is told the broker is: its default,
// 3.6, and the newest it knows; sarama picks its request versions from this.
var saramaVersions = []struct {
	name    string
	version sarama.KafkaVersion
}{
	{"default " + sarama.DefaultVersion.String(), sarama.DefaultVersion},
	{sarama.V3_6_0_0.String(), sarama.V3_6_0_0},
	{"newest " + sarama.MaxVersion.String(), sarama.MaxVersion},
}

// newSaramaConfig is sarama set up as the brief asks for: an idempotent acks=all
// producer that partitions by the message's Partition field, and consumers that start
// from the oldest offset and commit only explicitly.
func newSaramaConfig(t *testing.T, version sarama.KafkaVersion) *sarama.Config {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = version
	cfg.ClientID = "waybill-compat-sarama"
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	// Members notice a rebalance at their next heartbeat; keep that short so joining
	// a second member does not stall the test for the 3 s default.
	cfg.Consumer.Group.Heartbeat.Interval = 100 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sarama config: %v", err)
	}
	return cfg
}

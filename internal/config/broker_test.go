package config

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestBrokerDefaults(t *testing.T) {
	b := DefaultBroker()
	checks := []struct {
		name      string
		got, want any
	}{
		{AutoCreateTopicsEnable, b.AutoCreateTopicsEnable, true},
		{NumPartitions, b.NumPartitions, int32(1)},
		{DefaultReplicationFactor, b.DefaultReplicationFactor, int16(1)},
		{OffsetsTopicNumPartitions, b.OffsetsTopicNumPartitions, int32(50)},
		{OffsetsTopicReplicationFactor, b.OffsetsTopicReplicationFactor, int16(3)},
		{TransactionStateLogReplication, b.TransactionStateLogReplication, int16(3)},
		{TransactionStateLogMinISR, b.TransactionStateLogMinISR, int32(2)},
		{TransactionStateLogNumPartitions, b.TransactionStateLogNumPartitions, int32(50)},
		{TransactionMaxTimeoutMs, b.TransactionMaxTimeoutMs, int32(900000)},
		{TransactionalIDExpirationMs, b.TransactionalIDExpirationMs, int32(604800000)},
		{ProducerIDExpirationMs, b.ProducerIDExpirationMs, int32(86400000)},
		{GroupMinSessionTimeoutMs, b.GroupMinSessionTimeoutMs, int32(6000)},
		{GroupMaxSessionTimeoutMs, b.GroupMaxSessionTimeoutMs, int32(1800000)},
		{GroupInitialRebalanceDelayMs, b.GroupInitialRebalanceDelayMs, int32(3000)},
		{SocketRequestMaxBytes, b.SocketRequestMaxBytes, int32(104857600)},
		{MessageMaxBytes, b.MessageMaxBytes, int32(1048588)},
		{AutoLeaderRebalanceEnable, b.AutoLeaderRebalanceEnable, true},
		{LeaderImbalanceCheckIntervalSecs, b.LeaderImbalanceCheckIntervalSecs, int64(300)},
		{LeaderImbalancePerBrokerPercent, b.LeaderImbalancePerBrokerPercent, int32(10)},
		{"topic durable acks", b.TopicDefaults.DurableAcks, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestBrokerParse(t *testing.T) {
	b, err := ParseBroker(map[string]string{GroupInitialRebalanceDelayMs: "0", NumPartitions: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if b.GroupInitialRebalanceDelayMs != 0 || b.NumPartitions != 3 {
		t.Fatalf("not applied: %+v", b)
	}
	if got := b.Explicit(); len(got) != 2 {
		t.Fatalf("Explicit = %v", got)
	}

	bad := []map[string]string{
		{"no.such.config": "1"},
		{NumPartitions: "0"},
		{"log.segment.bytes": "100"},
		{GroupMinSessionTimeoutMs: "10", GroupMaxSessionTimeoutMs: "5"},
		{"log.cleaner.min.compaction.lag.ms": "10", "log.cleaner.max.compaction.lag.ms": "5"},
		{DefaultReplicationFactor: "40000"},
		{LeaderImbalanceCheckIntervalSecs: "0"},
		{LeaderImbalancePerBrokerPercent: "-1"},
	}
	for _, values := range bad {
		if _, err := ParseBroker(values); !errors.Is(err, kerr.InvalidConfig) {
			t.Errorf("%v: err = %v, want INVALID_CONFIG", values, err)
		}
	}
}

func TestEveryTopicSynonymIsABrokerConfig(t *testing.T) {
	for _, name := range topicSpecs.names {
		s := topicSpecs.byName[name]
		for _, syn := range s.synonyms {
			b := brokerSpecs.byName[syn.name]
			if b == nil {
				t.Errorf("%s: synonym %s is not a broker config", name, syn.name)
				continue
			}
			if syn.toTopic == nil && b.rule.typ != s.rule.typ {
				t.Errorf("%s (%v) and synonym %s (%v) differ in type", name, s.rule.typ, syn.name, b.rule.typ)
			}
		}
	}
}

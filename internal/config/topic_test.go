package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTopicDefaultsMatchKafka(t *testing.T) {
	topic, err := ParseTopic(nil, DefaultBroker())
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{RetentionMs, topic.RetentionMs, int64(604800000)},
		{RetentionBytes, topic.RetentionBytes, int64(-1)},
		{SegmentBytes, topic.SegmentBytes, int32(1073741824)},
		{SegmentMs, topic.SegmentMs, int64(604800000)},
		{SegmentIndexBytes, topic.SegmentIndexBytes, int32(10485760)},
		{IndexIntervalBytes, topic.IndexIntervalBytes, int32(4096)},
		{MaxMessageBytes, topic.MaxMessageBytes, int32(1048588)},
		{MinInsyncReplicas, topic.MinInsyncReplicas, int32(1)},
		{MessageTimestampType, topic.MessageTimestampType, "CreateTime"},
		{CompressionType, topic.CompressionType, "producer"},
		{DeleteRetentionMs, topic.DeleteRetentionMs, int64(86400000)},
		{MinCompactionLagMs, topic.MinCompactionLagMs, int64(0)},
		{UncleanLeaderElectionEnable, topic.UncleanLeaderElectionEnable, false},
		{FlushMessages, topic.FlushMessages, int64(maxInt64)},
		{FlushMs, topic.FlushMs, int64(maxInt64)},
		{FileDeleteDelayMs, topic.FileDeleteDelayMs, int64(60000)},
		{MessageTimestampAfterMaxMs, topic.MessageTimestampAfterMaxMs, int64(3600000)},
		{MessageTimestampBeforeMaxMs, topic.MessageTimestampBeforeMaxMs, int64(maxInt64)},
		{MinCleanableDirtyRatio, topic.MinCleanableDirtyRatio, 0.5},
		{DurableAcks, topic.DurableAcks, true},
		{"cleanup.policy delete", topic.CleanupPolicyDelete, true},
		{"cleanup.policy compact", topic.CleanupPolicyCompact, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestTopicOverridesWin(t *testing.T) {
	topic, err := ParseTopic(map[string]string{
		RetentionMs:          "1000",
		CleanupPolicy:        "compact, delete",
		MessageTimestampType: "LogAppendTime",
		DurableAcks:          "FALSE",
		SegmentBytes:         "1048576",
	}, DefaultBroker())
	if err != nil {
		t.Fatal(err)
	}
	if topic.RetentionMs != 1000 || !topic.CleanupPolicyCompact || !topic.CleanupPolicyDelete ||
		!topic.LogAppendTime() || topic.DurableAcks || topic.SegmentBytes != 1<<20 {
		t.Fatalf("overrides not applied: %+v", topic)
	}
}

func TestTopicDefaultsFollowBrokerSynonyms(t *testing.T) {
	b, err := ParseBroker(map[string]string{
		"log.retention.hours":  "1",
		"log.segment.bytes":    "2097152",
		"log.cleanup.policy":   "compact",
		"message.max.bytes":    "500000",
		"waybill.durable.acks": "false",
	})
	if err != nil {
		t.Fatal(err)
	}
	topic := b.TopicDefaults
	if topic.RetentionMs != 3600000 || topic.SegmentBytes != 2097152 || !topic.CleanupPolicyCompact ||
		topic.CleanupPolicyDelete || topic.MaxMessageBytes != 500000 || topic.DurableAcks {
		t.Fatalf("broker synonyms not applied: %+v", topic)
	}

	// log.retention.ms beats log.retention.minutes beats log.retention.hours.
	b, err = ParseBroker(map[string]string{"log.retention.hours": "1", "log.retention.minutes": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if b.TopicDefaults.RetentionMs != 120000 {
		t.Fatalf("minutes should beat hours: %d", b.TopicDefaults.RetentionMs)
	}
	b, err = ParseBroker(map[string]string{"log.retention.ms": "5", "log.retention.minutes": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if b.TopicDefaults.RetentionMs != 5 {
		t.Fatalf("ms should beat minutes: %d", b.TopicDefaults.RetentionMs)
	}
	b, err = ParseBroker(map[string]string{"log.retention.hours": "-1"})
	if err != nil {
		t.Fatal(err)
	}
	if b.TopicDefaults.RetentionMs != -1 {
		t.Fatalf("negative hours should mean unlimited: %d", b.TopicDefaults.RetentionMs)
	}
}

func TestTopicValidationErrors(t *testing.T) {
	cases := []struct {
		overrides map[string]string
		mention   []string
	}{
		{map[string]string{"no.such.config": "1"}, []string{"no.such.config"}},
		{map[string]string{RetentionMs: "-2"}, []string{RetentionMs, ">= -1"}},
		{map[string]string{RetentionMs: "soon"}, []string{RetentionMs}},
		{map[string]string{SegmentBytes: "1048575"}, []string{SegmentBytes, ">= 1048576"}},
		{map[string]string{"message.format.version": "2.8"}, []string{"message.format.version", "removed in Kafka 4.0", "KIP-724"}},
		{map[string]string{"message.downconversion.enable": "true"}, []string{"message.downconversion.enable", "removed in Kafka 4.0"}},
		{map[string]string{CleanupPolicy: "shred"}, []string{CleanupPolicy, "delete, compact"}},
		{map[string]string{CleanupPolicy: ""}, []string{CleanupPolicy}},
		{map[string]string{CompressionType: "brotli"}, []string{CompressionType, "zstd"}},
		{map[string]string{MessageTimestampType: "createtime"}, []string{MessageTimestampType, "CreateTime, LogAppendTime"}},
		{map[string]string{MinInsyncReplicas: "0"}, []string{MinInsyncReplicas}},
		{map[string]string{UncleanLeaderElectionEnable: "yes"}, []string{UncleanLeaderElectionEnable, "true or false"}},
		{map[string]string{MaxMessageBytes: "3000000000"}, []string{MaxMessageBytes}},
		{map[string]string{MinCleanableDirtyRatio: "1.5"}, []string{MinCleanableDirtyRatio}},
		{map[string]string{CompressionGzipLevel: "0"}, []string{CompressionGzipLevel}},
		{map[string]string{RemoteStorageEnable: "true"}, []string{RemoteStorageEnable}},
		{map[string]string{FlushMessages: "0"}, []string{FlushMessages}},
		{map[string]string{LeaderReplicationThrottled: "0-1"}, []string{LeaderReplicationThrottled}},
		{map[string]string{MinCompactionLagMs: "10", MaxCompactionLagMs: "5"}, []string{MinCompactionLagMs, MaxCompactionLagMs}},
	}
	for _, c := range cases {
		_, err := ParseTopic(c.overrides, DefaultBroker())
		if !errors.Is(err, kerr.InvalidConfig) {
			t.Errorf("%v: err = %v, want INVALID_CONFIG", c.overrides, err)
			continue
		}
		for _, m := range c.mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%v: message %q does not mention %q", c.overrides, err, m)
			}
		}
	}
}

func TestTopicAcceptsKafkaSpellings(t *testing.T) {
	ok := []map[string]string{
		{CleanupPolicy: "delete,compact"},
		{UncleanLeaderElectionEnable: " True "},
		{RetentionBytes: "-1"},
		{RetentionMs: "-1"},
		{LeaderReplicationThrottled: "*"},
		{FollowerReplicationThrottled: "0:1,1:2"},
		{CompressionGzipLevel: "-1"},
		{CompressionZstdLevel: "-5"},
		{MessageTimestampDifferenceMaxMs: "1000"},
	}
	for _, overrides := range ok {
		if _, err := ParseTopic(overrides, DefaultBroker()); err != nil {
			t.Errorf("%v: %v", overrides, err)
		}
	}
}

// A config Kafka 4.0 removed is INVALID_CONFIG on every path that takes config names,
// and the message says the removal is Kafka's, not a Waybill gap.
func TestConfigsRemovedInKafka4(t *testing.T) {
	checks := map[string]func() error{
		"topic overrides": func() error {
			return ValidateTopicOverrides(map[string]string{"message.format.version": "3.0"})
		},
		"incremental alter": func() error {
			v := "3.0"
			_, err := IncrementalAlterTopicConfigs(nil, []AlterOp{{"message.format.version", kmsg.IncrementalAlterConfigOpSet, &v}}, DefaultBroker())
			return err
		},
		"broker config": func() error {
			_, err := ParseBroker(map[string]string{"log.message.format.version": "3.0"})
			return err
		},
	}
	for name, check := range checks {
		err := check()
		if !errors.Is(err, kerr.InvalidConfig) || !strings.Contains(err.Error(), "removed in Kafka 4.0") {
			t.Errorf("%s: err = %v, want INVALID_CONFIG saying it was removed in Kafka 4.0", name, err)
		}
	}
}

package config

import (
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topic is a topic's effective configuration: its overrides resolved against the
// broker's defaults. Field comments give the config name.
type Topic struct {
	CleanupPolicyDelete  bool // cleanup.policy contains delete
	CleanupPolicyCompact bool // cleanup.policy contains compact

	CompressionType      string // compression.type: producer, uncompressed, gzip, snappy, lz4, zstd
	CompressionGzipLevel int32  // compression.gzip.level
	CompressionLz4Level  int32  // compression.lz4.level
	CompressionZstdLevel int32  // compression.zstd.level

	RetentionMs         int64 // retention.ms; -1 unlimited
	RetentionBytes      int64 // retention.bytes; -1 unlimited
	LocalRetentionMs    int64 // local.retention.ms
	LocalRetentionBytes int64 // local.retention.bytes

	SegmentBytes       int32 // segment.bytes
	SegmentMs          int64 // segment.ms
	SegmentJitterMs    int64 // segment.jitter.ms
	SegmentIndexBytes  int32 // segment.index.bytes
	IndexIntervalBytes int32 // index.interval.bytes
	FileDeleteDelayMs  int64 // file.delete.delay.ms
	Preallocate        bool  // preallocate

	DeleteRetentionMs      int64   // delete.retention.ms
	MinCompactionLagMs     int64   // min.compaction.lag.ms
	MaxCompactionLagMs     int64   // max.compaction.lag.ms
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio

	MaxMessageBytes                 int32  // max.message.bytes
	MessageTimestampType            string // message.timestamp.type: CreateTime or LogAppendTime
	MessageTimestampBeforeMaxMs     int64  // message.timestamp.before.max.ms
	MessageTimestampAfterMaxMs      int64  // message.timestamp.after.max.ms
	MessageTimestampDifferenceMaxMs int64  // message.timestamp.difference.max.ms (deprecated)

	MinInsyncReplicas           int32 // min.insync.replicas
	UncleanLeaderElectionEnable bool  // unclean.leader.election.enable

	FlushMessages int64 // flush.messages
	FlushMs       int64 // flush.ms
	DurableAcks   bool  // waybill.durable.acks

	LeaderReplicationThrottledReplicas   []string // leader.replication.throttled.replicas
	FollowerReplicationThrottledReplicas []string // follower.replication.throttled.replicas
}

// LogAppendTime reports whether the broker stamps record timestamps.
func (t Topic) LogAppendTime() bool { return t.MessageTimestampType == TimestampTypeLogAppendTime }

// ValidateTopicOverrides checks names and values of topic overrides without resolving
// them. Unknown names are INVALID_CONFIG, as in Kafka.
func ValidateTopicOverrides(overrides map[string]string) error {
	names := make([]string, 0, len(overrides))
	for name := range overrides {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic first error
	for _, name := range names {
		s, ok := topicSpecs.byName[name]
		if !ok {
			return unknownConfig("topic config name", name)
		}
		if err := s.rule.check(name, overrides[name]); err != nil {
			return err
		}
	}
	return nil
}

// ParseTopic validates a topic's overrides and resolves them against the broker's
// defaults. The error, if any, is an *Error wrapping kerr.InvalidConfig.
func ParseTopic(overrides map[string]string, defaults Broker) (Topic, error) {
	if err := ValidateTopicOverrides(overrides); err != nil {
		return Topic{}, err
	}
	r := topicResolver{overrides: overrides, defaults: defaults}
	policy := parseList(r.raw(CleanupPolicy))
	t := Topic{
		CleanupPolicyDelete:  slices.Contains(policy, CleanupPolicyDelete),
		CleanupPolicyCompact: slices.Contains(policy, CleanupPolicyCompact),

		CompressionType:      strings.TrimSpace(r.raw(CompressionType)),
		CompressionGzipLevel: r.int32(CompressionGzipLevel),
		CompressionLz4Level:  r.int32(CompressionLz4Level),
		CompressionZstdLevel: r.int32(CompressionZstdLevel),

		RetentionMs:         r.int64(RetentionMs),
		RetentionBytes:      r.int64(RetentionBytes),
		LocalRetentionMs:    r.int64(LocalRetentionMs),
		LocalRetentionBytes: r.int64(LocalRetentionBytes),

		SegmentBytes:       r.int32(SegmentBytes),
		SegmentMs:          r.int64(SegmentMs),
		SegmentJitterMs:    r.int64(SegmentJitterMs),
		SegmentIndexBytes:  r.int32(SegmentIndexBytes),
		IndexIntervalBytes: r.int32(IndexIntervalBytes),
		FileDeleteDelayMs:  r.int64(FileDeleteDelayMs),
		Preallocate:        r.bool(Preallocate),

		DeleteRetentionMs:      r.int64(DeleteRetentionMs),
		MinCompactionLagMs:     r.int64(MinCompactionLagMs),
		MaxCompactionLagMs:     r.int64(MaxCompactionLagMs),
		MinCleanableDirtyRatio: r.double(MinCleanableDirtyRatio),

		MaxMessageBytes:                 r.int32(MaxMessageBytes),
		MessageTimestampType:            strings.TrimSpace(r.raw(MessageTimestampType)),
		MessageTimestampBeforeMaxMs:     r.int64(MessageTimestampBeforeMaxMs),
		MessageTimestampAfterMaxMs:      r.int64(MessageTimestampAfterMaxMs),
		MessageTimestampDifferenceMaxMs: r.int64(MessageTimestampDifferenceMaxMs),

		MinInsyncReplicas:           r.int32(MinInsyncReplicas),
		UncleanLeaderElectionEnable: r.bool(UncleanLeaderElectionEnable),

		FlushMessages: r.int64(FlushMessages),
		FlushMs:       r.int64(FlushMs),
		DurableAcks:   r.bool(DurableAcks),

		LeaderReplicationThrottledReplicas:   parseList(r.raw(LeaderReplicationThrottled)),
		FollowerReplicationThrottledReplicas: parseList(r.raw(FollowerReplicationThrottled)),
	}
	// Kafka's one cross-field check on topic configs.
	if t.MinCompactionLagMs > t.MaxCompactionLagMs {
		return Topic{}, invalidConfig("conflicting topic configs: %s (%d) must not exceed %s (%d)",
			MinCompactionLagMs, t.MinCompactionLagMs, MaxCompactionLagMs, t.MaxCompactionLagMs)
	}
	return t, nil
}

// topicValue is the raw effective value of a topic config and where it came from: the
// override (DYNAMIC_TOPIC_CONFIG), else the first explicitly set broker synonym
// (STATIC_BROKER_CONFIG), else the first broker synonym with a default, else the topic
// config's own default (both DEFAULT_CONFIG).
func topicValue(s *spec, overrides map[string]string, defaults Broker) (string, kmsg.ConfigSource) {
	if v, ok := overrides[s.name]; ok {
		return v, kmsg.ConfigSourceDynamicTopicConfig
	}
	for _, syn := range s.synonyms {
		if v, ok := defaults.explicit[syn.name]; ok {
			return syn.convert(v), kmsg.ConfigSourceStaticBrokerConfig
		}
	}
	for _, syn := range s.synonyms {
		if v, _, ok := defaults.brokerValue(syn.name); ok {
			return syn.convert(v), kmsg.ConfigSourceDefaultConfig
		}
	}
	return *s.def, kmsg.ConfigSourceDefaultConfig
}

// topicResolver reads validated topic values; parse failures cannot happen.
type topicResolver struct {
	overrides map[string]string
	defaults  Broker
}

func (r topicResolver) raw(name string) string {
	v, _ := topicValue(topicSpecs.byName[name], r.overrides, r.defaults)
	return v
}

func (r topicResolver) bool(name string) bool {
	v, _ := parseBool(r.raw(name))
	return v
}

func (r topicResolver) int32(name string) int32 {
	n, _ := parseInt(r.raw(name), 32)
	return int32(n)
}

func (r topicResolver) int64(name string) int64 {
	n, _ := parseInt(r.raw(name), 64)
	return n
}

func (r topicResolver) double(name string) float64 {
	f, _ := parseDouble(r.raw(name))
	return f
}

package config

// Topic config names. Exported so that callers (internal topic creation, the log) name
// them without string literals.
const (
	CleanupPolicy                   = "cleanup.policy"
	CompressionType                 = "compression.type"
	CompressionGzipLevel            = "compression.gzip.level"
	CompressionLz4Level             = "compression.lz4.level"
	CompressionZstdLevel            = "compression.zstd.level"
	DeleteRetentionMs               = "delete.retention.ms"
	FileDeleteDelayMs               = "file.delete.delay.ms"
	FlushMessages                   = "flush.messages"
	FlushMs                         = "flush.ms"
	FollowerReplicationThrottled    = "follower.replication.throttled.replicas"
	IndexIntervalBytes              = "index.interval.bytes"
	LeaderReplicationThrottled      = "leader.replication.throttled.replicas"
	LocalRetentionBytes             = "local.retention.bytes"
	LocalRetentionMs                = "local.retention.ms"
	MaxCompactionLagMs              = "max.compaction.lag.ms"
	MaxMessageBytes                 = "max.message.bytes"
	MessageTimestampAfterMaxMs      = "message.timestamp.after.max.ms"
	MessageTimestampBeforeMaxMs     = "message.timestamp.before.max.ms"
	MessageTimestampDifferenceMaxMs = "message.timestamp.difference.max.ms"
	MessageTimestampType            = "message.timestamp.type"
	MinCleanableDirtyRatio          = "min.cleanable.dirty.ratio"
	MinCompactionLagMs              = "min.compaction.lag.ms"
	MinInsyncReplicas               = "min.insync.replicas"
	Preallocate                     = "preallocate"
	RemoteStorageEnable             = "remote.storage.enable"
	RetentionBytes                  = "retention.bytes"
	RetentionMs                     = "retention.ms"
	SegmentBytes                    = "segment.bytes"
	SegmentIndexBytes               = "segment.index.bytes"
	SegmentJitterMs                 = "segment.jitter.ms"
	SegmentMs                       = "segment.ms"
	UncleanLeaderElectionEnable     = "unclean.leader.election.enable"
	DurableAcks                     = "waybill.durable.acks"
)

// Values of enumerated topic configs.
const (
	CleanupPolicyDelete        = "delete"
	CleanupPolicyCompact       = "compact"
	TimestampTypeCreateTime    = "CreateTime"
	TimestampTypeLogAppendTime = "LogAppendTime"
	CompressionProducer        = "producer"
)

// Kafka's defaults and bounds that more than one table entry uses.
const (
	minSegmentBytes                  = 1 << 20 // Kafka 4.0 (KIP-1030); 3.x allowed 14 bytes
	defaultMaxMessageBytes           = 1048588
	defaultRetentionMs               = 7 * 24 * msPerHour
	defaultSegmentBytes              = 1 << 30
	defaultTimestampAfterMaxMs       = msPerHour // Kafka 4.0 (KIP-1030)
	defaultSegmentIndexBytes         = 10 << 20
	defaultDeleteRetentionMs         = 24 * msPerHour
	defaultFileDeleteDelayMs         = 60000
	defaultIndexIntervalBytes        = 4096
	defaultLz4Level                  = 9
	defaultZstdLevel                 = 3
	defaultMinCleanableDirtyRatioStr = "0.5"
)

var compressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", CompressionProducer}

// topicSpecs lists every topic-level config Kafka 4.0 lets a client set or describe,
// plus waybill.durable.acks. Deprecated message.timestamp.difference.max.ms is kept
// because 3.x clients still send it.
var topicSpecs = newSpecTable([]spec{
	{name: CleanupPolicy, rule: listOf(CleanupPolicyDelete, CleanupPolicyCompact), def: val(CleanupPolicyDelete),
		doc:      "How old segments are removed: delete by time and size, compact to the last record per key, or both.",
		synonyms: []synonym{{name: "log.cleanup.policy"}}},
	{name: CompressionType, rule: oneOf(compressionTypes...), def: val(CompressionProducer),
		doc:      "Codec the broker stores batches with; producer keeps what the producer sent.",
		synonyms: []synonym{{name: "compression.type"}}},
	{name: CompressionGzipLevel, rule: gzipLevel(), def: val("-1"),
		doc:      "Level used when compression.type is gzip.",
		synonyms: []synonym{{name: "compression.gzip.level"}}},
	{name: CompressionLz4Level, rule: intRange(1, 17), def: itoa(defaultLz4Level),
		doc:      "Level used when compression.type is lz4.",
		synonyms: []synonym{{name: "compression.lz4.level"}}},
	{name: CompressionZstdLevel, rule: intRange(-131072, 22), def: itoa(defaultZstdLevel),
		doc:      "Level used when compression.type is zstd.",
		synonyms: []synonym{{name: "compression.zstd.level"}}},
	{name: DeleteRetentionMs, rule: longAtLeast(0), def: itoa(defaultDeleteRetentionMs),
		doc:      "How long compaction keeps tombstones.",
		synonyms: []synonym{{name: "log.cleaner.delete.retention.ms"}}},
	{name: FileDeleteDelayMs, rule: longAtLeast(0), def: itoa(defaultFileDeleteDelayMs),
		doc:      "Delay before a removed segment's files are deleted.",
		synonyms: []synonym{{name: "log.segment.delete.delay.ms"}}},
	{name: FlushMessages, rule: longAtLeast(1), def: itoa(maxInt64),
		doc:      "Force an fsync after this many messages (Kafka's page-cache mode; see waybill.durable.acks).",
		synonyms: []synonym{{name: "log.flush.interval.messages"}}},
	{name: FlushMs, rule: longAtLeast(0), def: itoa(maxInt64),
		doc:      "Force an fsync after this many milliseconds (Kafka's page-cache mode; see waybill.durable.acks).",
		synonyms: []synonym{{name: "log.flush.interval.ms"}, {name: "log.flush.scheduler.interval.ms"}}},
	{name: FollowerReplicationThrottled, rule: throttledReplicas(), def: val(""),
		doc: "Replicas throttled on the follower side (accepted, not enforced)."},
	{name: IndexIntervalBytes, rule: intAtLeast(0), def: itoa(defaultIndexIntervalBytes),
		doc:      "Bytes between offset index entries.",
		synonyms: []synonym{{name: "log.index.interval.bytes"}}},
	{name: LeaderReplicationThrottled, rule: throttledReplicas(), def: val(""),
		doc: "Replicas throttled on the leader side (accepted, not enforced)."},
	{name: LocalRetentionBytes, rule: longAtLeast(-2), def: itoa(-2),
		doc:      "Tiered storage local retention in bytes; -2 means retention.bytes.",
		synonyms: []synonym{{name: "log.local.retention.bytes"}}},
	{name: LocalRetentionMs, rule: longAtLeast(-2), def: itoa(-2),
		doc:      "Tiered storage local retention in ms; -2 means retention.ms.",
		synonyms: []synonym{{name: "log.local.retention.ms"}}},
	{name: MaxCompactionLagMs, rule: longAtLeast(1), def: itoa(maxInt64),
		doc:      "Longest time a record stays uncompacted.",
		synonyms: []synonym{{name: "log.cleaner.max.compaction.lag.ms"}}},
	{name: MaxMessageBytes, rule: intAtLeast(0), def: itoa(defaultMaxMessageBytes),
		doc:      "Largest record batch the topic accepts.",
		synonyms: []synonym{{name: "message.max.bytes"}}},
	{name: MessageTimestampAfterMaxMs, rule: longAtLeast(0), def: itoa(defaultTimestampAfterMaxMs),
		doc:      "How far in the future a CreateTime timestamp may be.",
		synonyms: []synonym{{name: "log.message.timestamp.after.max.ms"}}},
	{name: MessageTimestampBeforeMaxMs, rule: longAtLeast(0), def: itoa(maxInt64),
		doc:      "How far in the past a CreateTime timestamp may be.",
		synonyms: []synonym{{name: "log.message.timestamp.before.max.ms"}}},
	{name: MessageTimestampDifferenceMaxMs, rule: longAtLeast(0), def: itoa(maxInt64),
		doc:      "Deprecated: largest difference between a CreateTime timestamp and the broker's clock.",
		synonyms: []synonym{{name: "log.message.timestamp.difference.max.ms"}}},
	{name: MessageTimestampType, rule: oneOf(TimestampTypeCreateTime, TimestampTypeLogAppendTime), def: val(TimestampTypeCreateTime),
		doc:      "Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime).",
		synonyms: []synonym{{name: "log.message.timestamp.type"}}},
	{name: MinCleanableDirtyRatio, rule: doubleBetween(0, 1), def: val(defaultMinCleanableDirtyRatioStr),
		doc:      "Dirty fraction of a log that triggers compaction.",
		synonyms: []synonym{{name: "log.cleaner.min.cleanable.ratio"}}},
	{name: MinCompactionLagMs, rule: longAtLeast(0), def: itoa(0),
		doc:      "Shortest time a record stays uncompacted.",
		synonyms: []synonym{{name: "log.cleaner.min.compaction.lag.ms"}}},
	{name: MinInsyncReplicas, rule: intAtLeast(1), def: itoa(1),
		doc:      "Replicas that must hold a batch before an acks=all produce succeeds.",
		synonyms: []synonym{{name: "min.insync.replicas"}}},
	{name: Preallocate, rule: boolean(), def: val("false"),
		doc:      "Preallocate segment files.",
		synonyms: []synonym{{name: "log.preallocate"}}},
	{name: RemoteStorageEnable, rule: onlyFalse(), def: val("false"),
		doc: "Tiered storage; not supported by Waybill."},
	{name: RetentionBytes, rule: anyLong(), def: itoa(-1),
		doc:      "Largest size of a partition before old segments are deleted; -1 is unlimited.",
		synonyms: []synonym{{name: "log.retention.bytes"}}},
	{name: RetentionMs, rule: longAtLeast(-1), def: itoa(defaultRetentionMs),
		doc: "Age after which old segments are deleted; -1 is unlimited.",
		synonyms: []synonym{
			{name: "log.retention.ms"},
			{name: "log.retention.minutes", toTopic: scaledToMs(msPerMinute)},
			{name: "log.retention.hours", toTopic: scaledToMs(msPerHour)},
		}},
	{name: SegmentBytes, rule: intAtLeast(minSegmentBytes), def: itoa(defaultSegmentBytes),
		doc:      "Size at which a segment is rolled.",
		synonyms: []synonym{{name: "log.segment.bytes"}}},
	{name: SegmentIndexBytes, rule: intAtLeast(4), def: itoa(defaultSegmentIndexBytes),
		doc:      "Size of a segment's offset and time indexes.",
		synonyms: []synonym{{name: "log.index.size.max.bytes"}}},
	{name: SegmentJitterMs, rule: longAtLeast(0), def: itoa(0),
		doc: "Random jitter subtracted from segment.ms.",
		synonyms: []synonym{
			{name: "log.roll.jitter.ms"},
			{name: "log.roll.jitter.hours", toTopic: scaledToMs(msPerHour)},
		}},
	{name: SegmentMs, rule: longAtLeast(1), def: itoa(defaultRetentionMs),
		doc: "Age at which a segment is rolled.",
		synonyms: []synonym{
			{name: "log.roll.ms"},
			{name: "log.roll.hours", toTopic: scaledToMs(msPerHour)},
		}},
	{name: UncleanLeaderElectionEnable, rule: boolean(), def: val("false"),
		doc:      "Allow a replica outside the ISR to become leader, at the cost of losing acknowledged records.",
		synonyms: []synonym{{name: "unclean.leader.election.enable"}}},
	{name: DurableAcks, rule: boolean(), def: val("true"),
		doc:      "Waybill: acknowledge acks=1/all produces only after fsync; false is Kafka's page-cache behaviour.",
		synonyms: []synonym{{name: "waybill.durable.acks"}}},
})

// TopicConfigNames returns the names of all known topic configs, sorted.
func TopicConfigNames() []string { return append([]string(nil), topicSpecs.names...) }

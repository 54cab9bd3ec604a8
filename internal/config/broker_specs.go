package config

import "math"

// Broker config names that Waybill reads directly (the log.* ones are read through the
// topic configs they supply defaults for).
const (
	AutoCreateTopicsEnable           = "auto.create.topics.enable"
	NumPartitions                    = "num.partitions"
	DefaultReplicationFactor         = "default.replication.factor"
	OffsetsTopicNumPartitions        = "offsets.topic.num.partitions"
	OffsetsTopicReplicationFactor    = "offsets.topic.replication.factor"
	OffsetsTopicSegmentBytes         = "offsets.topic.segment.bytes"
	OffsetsRetentionMinutes          = "offsets.retention.minutes"
	TransactionStateLogNumPartitions = "transaction.state.log.num.partitions"
	TransactionStateLogReplication   = "transaction.state.log.replication.factor"
	TransactionStateLogMinISR        = "transaction.state.log.min.isr"
	TransactionStateLogSegmentBytes  = "transaction.state.log.segment.bytes"
	TransactionMaxTimeoutMs          = "transaction.max.timeout.ms"
	TransactionalIDExpirationMs      = "transactional.id.expiration.ms"
	ProducerIDExpirationMs           = "producer.id.expiration.ms"
	GroupMinSessionTimeoutMs         = "group.min.session.timeout.ms"
	GroupMaxSessionTimeoutMs         = "group.max.session.timeout.ms"
	GroupInitialRebalanceDelayMs     = "group.initial.rebalance.delay.ms"
	GroupMaxSize                     = "group.max.size"
	SocketRequestMaxBytes            = "socket.request.max.bytes"
	MessageMaxBytes                  = "message.max.bytes"
	ReplicaLagTimeMaxMs              = "replica.lag.time.max.ms"
	ReplicaFetchWaitMaxMs            = "replica.fetch.wait.max.ms"
	ReplicaFetchMinBytes             = "replica.fetch.min.bytes"
	ReplicaFetchMaxBytes             = "replica.fetch.max.bytes"
	ReplicaFetchResponseMaxBytes     = "replica.fetch.response.max.bytes"
	ReplicaFetchBackoffMs            = "replica.fetch.backoff.ms"
	ReplicaHWCheckpointIntervalMs    = "replica.high.watermark.checkpoint.interval.ms"
	BrokerSessionTimeoutMs           = "broker.session.timeout.ms"
	BrokerHeartbeatIntervalMs        = "broker.heartbeat.interval.ms"
	AutoLeaderRebalanceEnable        = "auto.leader.rebalance.enable"
	LeaderImbalanceCheckIntervalSecs = "leader.imbalance.check.interval.seconds"
	LeaderImbalancePerBrokerPercent  = "leader.imbalance.per.broker.percentage"
)

// Kafka's broker defaults used in the table below.
const (
	defaultInternalTopicSegmentBytes    = 100 << 20
	defaultOffsetsRetentionMinutes      = 7 * 24 * 60
	defaultTransactionMaxTimeoutMs      = 15 * 60 * 1000
	defaultTransactionalIDExpirationMs  = 7 * 24 * msPerHour
	defaultProducerIDExpirationMs       = 24 * msPerHour
	defaultGroupMinSessionTimeoutMs     = 6000
	defaultGroupMaxSessionTimeoutMs     = 30 * msPerMinute
	defaultGroupInitialRebalanceDelayMs = 3000
	defaultSocketRequestMaxBytes        = 100 << 20
	defaultReplicaLagTimeMaxMs          = 30000
	defaultBrokerSessionTimeoutMs       = 9000
	defaultBrokerHeartbeatIntervalMs    = 2000
	defaultInternalTopicPartitions      = 50
	defaultLeaderImbalanceCheckSecs     = 300
	defaultLeaderImbalancePerBroker     = 10
)

// brokerSpecs lists the broker configs a user sets and DescribeConfigs shows for a
// BROKER resource. Replication factors of internal topics default to Kafka's 3, capped
// by the live brokers when the topic is created, so that a single node still works.
var brokerSpecs = newSpecTable(append([]spec{
	{name: AutoCreateTopicsEnable, rule: boolean(), def: val("true"),
		doc: "Create a topic when a client asks for metadata of, or produces to, a topic that does not exist."},
	{name: NumPartitions, rule: intAtLeast(1), def: itoa(1),
		doc: "Partitions of a topic created without an explicit count."},
	{name: DefaultReplicationFactor, rule: intRange(1, math.MaxInt16), def: itoa(1),
		doc: "Replication factor of a topic created without an explicit one."},
	{name: OffsetsTopicNumPartitions, rule: intAtLeast(1), def: itoa(defaultInternalTopicPartitions),
		doc: "Partitions of __consumer_offsets (fixed once the topic exists)."},
	{name: OffsetsTopicReplicationFactor, rule: shortAtLeast(1), def: itoa(3),
		doc: "Replication factor of __consumer_offsets, capped by the live brokers when it is created."},
	{name: OffsetsTopicSegmentBytes, rule: intAtLeast(1), def: itoa(defaultInternalTopicSegmentBytes),
		doc: "Segment size of __consumer_offsets."},
	{name: OffsetsRetentionMinutes, rule: intAtLeast(1), def: itoa(defaultOffsetsRetentionMinutes),
		doc: "How long committed offsets of an empty group are kept."},
	{name: TransactionStateLogNumPartitions, rule: intAtLeast(1), def: itoa(defaultInternalTopicPartitions),
		doc: "Partitions of __transaction_state (fixed once the topic exists)."},
	{name: TransactionStateLogReplication, rule: shortAtLeast(1), def: itoa(3),
		doc: "Replication factor of __transaction_state, capped by the live brokers when it is created."},
	{name: TransactionStateLogMinISR, rule: intAtLeast(1), def: itoa(2),
		doc: "min.insync.replicas of __transaction_state, capped by its replication factor."},
	{name: TransactionStateLogSegmentBytes, rule: intAtLeast(1), def: itoa(defaultInternalTopicSegmentBytes),
		doc: "Segment size of __transaction_state."},
	{name: TransactionMaxTimeoutMs, rule: intAtLeast(1), def: itoa(defaultTransactionMaxTimeoutMs),
		doc: "Largest transaction timeout a producer may ask for."},
	{name: TransactionalIDExpirationMs, rule: intAtLeast(1), def: itoa(defaultTransactionalIDExpirationMs),
		doc: "Idle time after which a transactional id's state is dropped."},
	{name: ProducerIDExpirationMs, rule: intAtLeast(1), def: itoa(defaultProducerIDExpirationMs),
		doc: "Idle time after which an idempotent producer's sequence state is dropped."},
	{name: GroupMinSessionTimeoutMs, rule: anyInt(), def: itoa(defaultGroupMinSessionTimeoutMs),
		doc: "Smallest session timeout a group member may ask for."},
	{name: GroupMaxSessionTimeoutMs, rule: anyInt(), def: itoa(defaultGroupMaxSessionTimeoutMs),
		doc: "Largest session timeout a group member may ask for."},
	{name: GroupInitialRebalanceDelayMs, rule: intAtLeast(0), def: itoa(defaultGroupInitialRebalanceDelayMs),
		doc: "How long the first rebalance of a new group waits for more members."},
	{name: GroupMaxSize, rule: intAtLeast(1), def: itoa(maxInt32),
		doc: "Largest number of members in a group."},
	{name: SocketRequestMaxBytes, rule: intAtLeast(1), def: itoa(defaultSocketRequestMaxBytes),
		doc: "Largest request the broker reads; larger ones close the connection."},
	{name: ReplicaLagTimeMaxMs, rule: longAtLeast(0), def: itoa(defaultReplicaLagTimeMaxMs),
		doc: "A follower that has not caught up for this long leaves the ISR."},
	{name: ReplicaFetchWaitMaxMs, rule: intAtLeast(0), def: itoa(500),
		doc: "How long a follower's fetch waits at the leader for new data."},
	{name: ReplicaFetchMinBytes, rule: intAtLeast(1), def: itoa(1),
		doc: "Bytes a follower's fetch waits for at the leader."},
	{name: ReplicaFetchMaxBytes, rule: intAtLeast(0), def: itoa(1 << 20),
		doc: "Bytes a follower fetches per partition and request."},
	{name: ReplicaFetchResponseMaxBytes, rule: intAtLeast(0), def: itoa(10 << 20),
		doc: "Bytes a follower fetches per request."},
	{name: ReplicaFetchBackoffMs, rule: intAtLeast(0), def: itoa(1000),
		doc: "How long a follower waits after a failed fetch."},
	{name: ReplicaHWCheckpointIntervalMs, rule: intAtLeast(1), def: itoa(5000),
		doc: "How often each replica's high watermark is saved, so that a restarted replica shows consumers what was committed."},
	{name: BrokerSessionTimeoutMs, rule: intAtLeast(1), def: itoa(defaultBrokerSessionTimeoutMs),
		doc: "A broker whose heartbeats stop for this long is fenced and its partitions get new leaders."},
	{name: BrokerHeartbeatIntervalMs, rule: intAtLeast(1), def: itoa(defaultBrokerHeartbeatIntervalMs),
		doc: "How often a broker sends the controller a heartbeat."},
	{name: AutoLeaderRebalanceEnable, rule: boolean(), def: val("true"),
		doc: "The controller moves leadership back to each partition's preferred replica (the first in its assignment) when a broker leads too few of the partitions it prefers."},
	{name: LeaderImbalanceCheckIntervalSecs, rule: longAtLeast(1), def: itoa(defaultLeaderImbalanceCheckSecs),
		doc: "How often the controller checks how partition leadership is spread over the preferred replicas."},
	{name: LeaderImbalancePerBrokerPercent, rule: intAtLeast(0), def: itoa(defaultLeaderImbalancePerBroker),
		doc: "The share, in percent, of a broker's preferred partitions that others may lead before the controller moves them back."},
}, topicDefaultBrokerSpecs()...))

func anyInt() rule { return intRange(minInt32, maxInt32) }

// topicDefaultBrokerSpecs are the broker configs that are synonyms of topic configs.
// Each takes the validator of its topic config (converted units aside) so that a broker
// default can never produce an invalid topic value.
func topicDefaultBrokerSpecs() []spec {
	return []spec{
		{name: "log.cleanup.policy", rule: listOf(CleanupPolicyDelete, CleanupPolicyCompact), def: val(CleanupPolicyDelete),
			doc: "Default cleanup.policy."},
		{name: "compression.type", rule: oneOf(compressionTypes...), def: val(CompressionProducer),
			doc: "Default compression.type."},
		{name: "compression.gzip.level", rule: gzipLevel(), def: val("-1"), doc: "Default compression.gzip.level."},
		{name: "compression.lz4.level", rule: intRange(1, 17), def: itoa(defaultLz4Level), doc: "Default compression.lz4.level."},
		{name: "compression.zstd.level", rule: intRange(-131072, 22), def: itoa(defaultZstdLevel), doc: "Default compression.zstd.level."},
		{name: "log.cleaner.delete.retention.ms", rule: longAtLeast(0), def: itoa(defaultDeleteRetentionMs), doc: "Default delete.retention.ms."},
		{name: "log.segment.delete.delay.ms", rule: longAtLeast(0), def: itoa(defaultFileDeleteDelayMs), doc: "Default file.delete.delay.ms."},
		{name: "log.flush.interval.messages", rule: longAtLeast(1), def: itoa(maxInt64), doc: "Default flush.messages."},
		{name: "log.flush.interval.ms", rule: longAtLeast(0), doc: "Default flush.ms; when unset, log.flush.scheduler.interval.ms."},
		{name: "log.flush.scheduler.interval.ms", rule: longAtLeast(0), def: itoa(maxInt64), doc: "How often the flusher checks whether a log needs an fsync."},
		{name: "log.index.interval.bytes", rule: intAtLeast(0), def: itoa(defaultIndexIntervalBytes), doc: "Default index.interval.bytes."},
		{name: "log.local.retention.bytes", rule: longAtLeast(-2), def: itoa(-2), doc: "Default local.retention.bytes."},
		{name: "log.local.retention.ms", rule: longAtLeast(-2), def: itoa(-2), doc: "Default local.retention.ms."},
		{name: "log.cleaner.max.compaction.lag.ms", rule: longAtLeast(1), def: itoa(maxInt64), doc: "Default max.compaction.lag.ms."},
		{name: MessageMaxBytes, rule: intAtLeast(0), def: itoa(defaultMaxMessageBytes), doc: "Largest record batch the broker accepts; default max.message.bytes."},
		{name: "log.message.timestamp.after.max.ms", rule: longAtLeast(0), def: itoa(defaultTimestampAfterMaxMs), doc: "Default message.timestamp.after.max.ms."},
		{name: "log.message.timestamp.before.max.ms", rule: longAtLeast(0), def: itoa(maxInt64), doc: "Default message.timestamp.before.max.ms."},
		{name: "log.message.timestamp.difference.max.ms", rule: longAtLeast(0), def: itoa(maxInt64), doc: "Deprecated default message.timestamp.difference.max.ms."},
		{name: "log.message.timestamp.type", rule: oneOf(TimestampTypeCreateTime, TimestampTypeLogAppendTime), def: val(TimestampTypeCreateTime), doc: "Default message.timestamp.type."},
		{name: "log.cleaner.min.cleanable.ratio", rule: doubleBetween(0, 1), def: val(defaultMinCleanableDirtyRatioStr), doc: "Default min.cleanable.dirty.ratio."},
		{name: "log.cleaner.min.compaction.lag.ms", rule: longAtLeast(0), def: itoa(0), doc: "Default min.compaction.lag.ms."},
		{name: MinInsyncReplicas, rule: intAtLeast(1), def: itoa(1), doc: "Default min.insync.replicas."},
		{name: "log.preallocate", rule: boolean(), def: val("false"), doc: "Default preallocate."},
		{name: "log.retention.bytes", rule: anyLong(), def: itoa(-1), doc: "Default retention.bytes."},
		{name: "log.retention.ms", rule: anyLong(), doc: "Default retention.ms; takes precedence over log.retention.minutes and log.retention.hours."},
		{name: "log.retention.minutes", rule: anyInt(), doc: "Default retention.ms in minutes; takes precedence over log.retention.hours."},
		{name: "log.retention.hours", rule: anyInt(), def: itoa(7 * 24), doc: "Default retention.ms in hours."},
		{name: "log.segment.bytes", rule: intAtLeast(minSegmentBytes), def: itoa(defaultSegmentBytes), doc: "Default segment.bytes."},
		{name: "log.index.size.max.bytes", rule: intAtLeast(4), def: itoa(defaultSegmentIndexBytes), doc: "Default segment.index.bytes."},
		{name: "log.roll.jitter.ms", rule: longAtLeast(0), doc: "Default segment.jitter.ms; takes precedence over log.roll.jitter.hours."},
		{name: "log.roll.jitter.hours", rule: intAtLeast(0), def: itoa(0), doc: "Default segment.jitter.ms in hours."},
		{name: "log.roll.ms", rule: longAtLeast(1), doc: "Default segment.ms; takes precedence over log.roll.hours."},
		{name: "log.roll.hours", rule: intAtLeast(1), def: itoa(7 * 24), doc: "Default segment.ms in hours."},
		{name: UncleanLeaderElectionEnable, rule: boolean(), def: val("false"), doc: "Default unclean.leader.election.enable."},
		{name: DurableAcks, rule: boolean(), def: val("true"),
			doc: "Waybill: acknowledge acks=1/all produces only after fsync (default waybill.durable.acks of topics); false is Kafka's page-cache behaviour."},
	}
}

// BrokerConfigNames returns the names of all known broker configs, sorted.
func BrokerConfigNames() []string { return append([]string(nil), brokerSpecs.names...) }

package config

import (
	"maps"
	"sort"
)

// Broker is the broker-level configuration, resolved: every field holds the configured
// value or Kafka's default. It also remembers which configs were set explicitly, which
// DescribeConfigs reports as STATIC_BROKER_CONFIG and which topic defaults follow.
//
// A Broker is a value; copies share the explicit map, which is never modified after
// ParseBroker returns.
type Broker struct {
	AutoCreateTopicsEnable           bool
	NumPartitions                    int32
	DefaultReplicationFactor         int16
	OffsetsTopicNumPartitions        int32
	OffsetsTopicReplicationFactor    int16
	OffsetsTopicSegmentBytes         int32
	OffsetsRetentionMinutes          int32
	TransactionStateLogNumPartitions int32
	TransactionStateLogReplication   int16
	TransactionStateLogMinISR        int32
	TransactionStateLogSegmentBytes  int32
	TransactionMaxTimeoutMs          int32
	TransactionalIDExpirationMs      int32
	ProducerIDExpirationMs           int32
	GroupMinSessionTimeoutMs         int32
	GroupMaxSessionTimeoutMs         int32
	GroupInitialRebalanceDelayMs     int32
	GroupMaxSize                     int32
	SocketRequestMaxBytes            int32
	MessageMaxBytes                  int32
	ReplicaLagTimeMaxMs              int64
	ReplicaFetchWaitMaxMs            int32
	ReplicaFetchMinBytes             int32
	ReplicaFetchMaxBytes             int32
	ReplicaFetchResponseMaxBytes     int32
	ReplicaFetchBackoffMs            int32
	ReplicaHWCheckpointIntervalMs    int32
	BrokerSessionTimeoutMs           int32
	BrokerHeartbeatIntervalMs        int32
	AutoLeaderRebalanceEnable        bool
	LeaderImbalanceCheckIntervalSecs int64
	LeaderImbalancePerBrokerPercent  int32

	// TopicDefaults is what a topic without overrides gets, resolved from the log.*
	// and other synonym broker configs.
	TopicDefaults Topic

	explicit map[string]string // configs set by the user, validated
}

// DefaultBroker returns Kafka's defaults (with Waybill's internal-topic replication
// factor of 1).
func DefaultBroker() Broker {
	b, err := ParseBroker(nil)
	if err != nil {
		panic("config: defaults do not validate: " + err.Error())
	}
	return b
}

// ParseBroker validates explicitly set broker configs and resolves the rest to their
// defaults. Unknown names are rejected so that a typo in a config file is not silently
// ignored.
func ParseBroker(values map[string]string) (Broker, error) {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic first error
	for _, name := range names {
		s, ok := brokerSpecs.byName[name]
		if !ok {
			return Broker{}, unknownConfig("broker config", name)
		}
		if err := s.rule.check(name, values[name]); err != nil {
			return Broker{}, err
		}
	}
	b := Broker{explicit: maps.Clone(values)}
	r := brokerResolver{&b}
	b.AutoCreateTopicsEnable = r.bool(AutoCreateTopicsEnable)
	b.NumPartitions = r.int32(NumPartitions)
	b.DefaultReplicationFactor = r.int16(DefaultReplicationFactor)
	b.OffsetsTopicNumPartitions = r.int32(OffsetsTopicNumPartitions)
	b.OffsetsTopicReplicationFactor = r.int16(OffsetsTopicReplicationFactor)
	b.OffsetsTopicSegmentBytes = r.int32(OffsetsTopicSegmentBytes)
	b.OffsetsRetentionMinutes = r.int32(OffsetsRetentionMinutes)
	b.TransactionStateLogNumPartitions = r.int32(TransactionStateLogNumPartitions)
	b.TransactionStateLogReplication = r.int16(TransactionStateLogReplication)
	b.TransactionStateLogMinISR = r.int32(TransactionStateLogMinISR)
	b.TransactionStateLogSegmentBytes = r.int32(TransactionStateLogSegmentBytes)
	b.TransactionMaxTimeoutMs = r.int32(TransactionMaxTimeoutMs)
	b.TransactionalIDExpirationMs = r.int32(TransactionalIDExpirationMs)
	b.ProducerIDExpirationMs = r.int32(ProducerIDExpirationMs)
	b.GroupMinSessionTimeoutMs = r.int32(GroupMinSessionTimeoutMs)
	b.GroupMaxSessionTimeoutMs = r.int32(GroupMaxSessionTimeoutMs)
	b.GroupInitialRebalanceDelayMs = r.int32(GroupInitialRebalanceDelayMs)
	b.GroupMaxSize = r.int32(GroupMaxSize)
	b.SocketRequestMaxBytes = r.int32(SocketRequestMaxBytes)
	b.MessageMaxBytes = r.int32(MessageMaxBytes)
	b.ReplicaLagTimeMaxMs = r.int64(ReplicaLagTimeMaxMs)
	b.ReplicaFetchWaitMaxMs = r.int32(ReplicaFetchWaitMaxMs)
	b.ReplicaFetchMinBytes = r.int32(ReplicaFetchMinBytes)
	b.ReplicaFetchMaxBytes = r.int32(ReplicaFetchMaxBytes)
	b.ReplicaFetchResponseMaxBytes = r.int32(ReplicaFetchResponseMaxBytes)
	b.ReplicaFetchBackoffMs = r.int32(ReplicaFetchBackoffMs)
	b.ReplicaHWCheckpointIntervalMs = r.int32(ReplicaHWCheckpointIntervalMs)
	b.BrokerSessionTimeoutMs = r.int32(BrokerSessionTimeoutMs)
	b.BrokerHeartbeatIntervalMs = r.int32(BrokerHeartbeatIntervalMs)
	b.AutoLeaderRebalanceEnable = r.bool(AutoLeaderRebalanceEnable)
	b.LeaderImbalanceCheckIntervalSecs = r.int64(LeaderImbalanceCheckIntervalSecs)
	b.LeaderImbalancePerBrokerPercent = r.int32(LeaderImbalancePerBrokerPercent)

	if b.BrokerHeartbeatIntervalMs >= b.BrokerSessionTimeoutMs {
		return Broker{}, invalidConfig("%s (%d) must be less than %s (%d)",
			BrokerHeartbeatIntervalMs, b.BrokerHeartbeatIntervalMs, BrokerSessionTimeoutMs, b.BrokerSessionTimeoutMs)
	}
	if b.GroupMinSessionTimeoutMs > b.GroupMaxSessionTimeoutMs {
		return Broker{}, invalidConfig("%s (%d) must not exceed %s (%d)",
			GroupMinSessionTimeoutMs, b.GroupMinSessionTimeoutMs, GroupMaxSessionTimeoutMs, b.GroupMaxSessionTimeoutMs)
	}
	// Resolving the topic defaults runs the topic-level cross checks on them too.
	topic, err := ParseTopic(nil, b)
	if err != nil {
		return Broker{}, err
	}
	b.TopicDefaults = topic
	return b, nil
}

// Explicit returns a copy of the configs that were set explicitly.
func (b Broker) Explicit() map[string]string { return maps.Clone(b.explicit) }

// brokerValue is the raw value of a broker config: explicit, else its default. ok is
// false for an unset config whose default is null.
func (b Broker) brokerValue(name string) (raw string, explicit, ok bool) {
	if v, set := b.explicit[name]; set {
		return v, true, true
	}
	if s := brokerSpecs.byName[name]; s != nil && s.def != nil {
		return *s.def, false, true
	}
	return "", false, false
}

// brokerResolver reads validated broker configs; parse failures cannot happen.
type brokerResolver struct{ b *Broker }

func (r brokerResolver) raw(name string) string {
	v, _, _ := r.b.brokerValue(name)
	return v
}

func (r brokerResolver) bool(name string) bool {
	v, _ := parseBool(r.raw(name))
	return v
}

func (r brokerResolver) int16(name string) int16 {
	n, _ := parseInt(r.raw(name), 16)
	return int16(n)
}

func (r brokerResolver) int32(name string) int32 {
	n, _ := parseInt(r.raw(name), 32)
	return int32(n)
}

func (r brokerResolver) int64(name string) int64 {
	n, _ := parseInt(r.raw(name), 64)
	return n
}

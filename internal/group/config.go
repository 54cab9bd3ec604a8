package group

import (
	"errors"
	"log/slog"
	"time"
)

// Config holds the coordinator's settings. Zero fields take Kafka's defaults,
// given next to each field.
type Config struct {
	// NumPartitions is offsets.topic.num.partitions, the number of
	// __consumer_offsets partitions. Default 50.
	NumPartitions int32

	// MinSessionTimeout and MaxSessionTimeout are
	// group.min.session.timeout.ms and group.max.session.timeout.ms.
	// Defaults 6s and 30m.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration

	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long the
	// first rebalance of an empty group waits for more members. Default 3s;
	// set NoInitialRebalanceDelay to make it zero.
	InitialRebalanceDelay   time.Duration
	NoInitialRebalanceDelay bool

	// OffsetsRetention is offsets.retention.minutes. Default 7 days.
	OffsetsRetention time.Duration

	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms.
	// Default 10m.
	OffsetsRetentionCheckInterval time.Duration

	// MaxOffsetMetadataBytes is offset.metadata.max.bytes. Default 4096.
	MaxOffsetMetadataBytes int

	// TickInterval is how often deadlines are swept. Default 100ms; it
	// bounds how late a session or rebalance timeout can fire.
	TickInterval time.Duration

	// TopicExists reports whether a topic exists in the current metadata.
	// Load deletes the offsets of topics it says are gone, which were
	// deleted while the partition was not loaded. Default nil: none is
	// checked.
	TopicExists func(topic string) bool

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// Logger receives coordinator events. Default slog.Default().
	Logger *slog.Logger
}

// newMemberJoinTimeout bounds how long a member that has never completed a
// join may sit in a rebalance (Kafka's NewMemberJoinTimeoutMs), since it has
// no member id to heartbeat with.
const newMemberJoinTimeout = 5 * time.Minute

// backgroundAppendTimeout bounds appends that no request waits for (the
// metadata of a group that became empty, retention tombstones).
const backgroundAppendTimeout = 30 * time.Second

func (cfg Config) withDefaults() Config {
	if cfg.NumPartitions == 0 {
		cfg.NumPartitions = 50
	}
	if cfg.MinSessionTimeout == 0 {
		cfg.MinSessionTimeout = 6 * time.Second
	}
	if cfg.MaxSessionTimeout == 0 {
		cfg.MaxSessionTimeout = 30 * time.Minute
	}
	if cfg.InitialRebalanceDelay == 0 && !cfg.NoInitialRebalanceDelay {
		cfg.InitialRebalanceDelay = 3 * time.Second
	}
	if cfg.NoInitialRebalanceDelay {
		cfg.InitialRebalanceDelay = 0
	}
	if cfg.OffsetsRetention == 0 {
		cfg.OffsetsRetention = 7 * 24 * time.Hour
	}
	if cfg.OffsetsRetentionCheckInterval == 0 {
		cfg.OffsetsRetentionCheckInterval = 10 * time.Minute
	}
	if cfg.MaxOffsetMetadataBytes == 0 {
		cfg.MaxOffsetMetadataBytes = 4096
	}
	if cfg.TickInterval == 0 {
		cfg.TickInterval = 100 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// validate rejects settings that contradict each other, after defaults.
func (cfg Config) validate() error {
	switch {
	case cfg.NumPartitions < 1:
		return errors.New("group: NumPartitions must be at least 1")
	case cfg.MinSessionTimeout < 0 || cfg.MaxSessionTimeout < cfg.MinSessionTimeout:
		return errors.New("group: need 0 <= MinSessionTimeout <= MaxSessionTimeout")
	case cfg.InitialRebalanceDelay < 0:
		return errors.New("group: InitialRebalanceDelay must not be negative")
	case cfg.OffsetsRetention < 0 || cfg.OffsetsRetentionCheckInterval < 0 || cfg.TickInterval < 0:
		return errors.New("group: durations must not be negative")
	case cfg.MaxOffsetMetadataBytes < 0:
		return errors.New("group: MaxOffsetMetadataBytes must not be negative")
	}
	return nil
}

package txn

import (
	"errors"
	"log/slog"
	"time"
)

// Config holds the coordinator's settings. Zero fields take Kafka's defaults,
// given next to each field; GroupPartition is required.
type Config struct {
	// NumPartitions is transaction.state.log.num.partitions, the number of
	// __transaction_state partitions. Default 50.
	NumPartitions int32

	// MaxTimeout is transaction.max.timeout.ms, the longest transaction
	// timeout a producer may ask for. Default 15m.
	MaxTimeout time.Duration

	// TransactionalIDExpiration is transactional.id.expiration.ms: a
	// transactional id with no open transaction and no update for this long
	// is removed. Default 7 days.
	TransactionalIDExpiration time.Duration

	// AbortTimedOutCheckInterval is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms, how often
	// transactions past their timeout are looked for. Default 10s.
	AbortTimedOutCheckInterval time.Duration

	// RemoveExpiredCheckInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms, how often
	// expired transactional ids are looked for. Default 1h.
	RemoveExpiredCheckInterval time.Duration

	// MarkerRetryBackoff is how long to wait before writing markers again to
	// the partitions that failed, and before retrying a failed write of a
	// Complete state. Default 100ms.
	MarkerRetryBackoff time.Duration

	// GroupPartition maps a consumer group to its __consumer_offsets
	// partition, for AddOffsetsToTxn. Required.
	GroupPartition func(group string) int32

	// PartitionExists reports whether a data partition exists, so that
	// AddPartitionsToTxn can answer UNKNOWN_TOPIC_OR_PARTITION as Kafka does.
	// Nil means every partition exists.
	PartitionExists func(TopicPartition) bool

	// CoordinatorEpoch returns the leader epoch of a __transaction_state
	// partition; Load calls it once and passes the value with every marker it
	// writes for that partition, so that partition leaders can reject markers
	// from a deposed coordinator. Nil means 0.
	CoordinatorEpoch func(partition int32) int32

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// Logger receives coordinator events. Default slog.Default().
	Logger *slog.Logger
}

// backgroundAppendTimeout bounds appends that no request waits for (timeout
// aborts, Complete states, expiry tombstones).
const backgroundAppendTimeout = 30 * time.Second

func (cfg Config) withDefaults() Config {
	if cfg.NumPartitions == 0 {
		cfg.NumPartitions = 50
	}
	if cfg.MaxTimeout == 0 {
		cfg.MaxTimeout = 15 * time.Minute
	}
	if cfg.TransactionalIDExpiration == 0 {
		cfg.TransactionalIDExpiration = 7 * 24 * time.Hour
	}
	if cfg.AbortTimedOutCheckInterval == 0 {
		cfg.AbortTimedOutCheckInterval = 10 * time.Second
	}
	if cfg.RemoveExpiredCheckInterval == 0 {
		cfg.RemoveExpiredCheckInterval = time.Hour
	}
	if cfg.MarkerRetryBackoff == 0 {
		cfg.MarkerRetryBackoff = 100 * time.Millisecond
	}
	if cfg.CoordinatorEpoch == nil {
		cfg.CoordinatorEpoch = func(int32) int32 { return 0 }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// validate rejects settings that cannot work, after defaults.
func (cfg Config) validate() error {
	switch {
	case cfg.NumPartitions < 1:
		return errors.New("txn: NumPartitions must be at least 1")
	case cfg.MaxTimeout < time.Millisecond:
		return errors.New("txn: MaxTimeout must be at least 1ms")
	case cfg.TransactionalIDExpiration < 0 || cfg.AbortTimedOutCheckInterval < 0 ||
		cfg.RemoveExpiredCheckInterval < 0 || cfg.MarkerRetryBackoff < 0:
		return errors.New("txn: durations must not be negative")
	case cfg.GroupPartition == nil:
		return errors.New("txn: GroupPartition is required")
	}
	return nil
}

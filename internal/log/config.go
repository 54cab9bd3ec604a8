package log

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Config holds a partition's log settings. Field comments give the Kafka topic config
// name and its default, which DefaultConfig returns.
type Config struct {
	// SegmentBytes (segment.bytes, 1 GiB): roll the active segment before it grows past
	// this. A single batch larger than this still goes into a segment of its own.
	SegmentBytes int64
	// SegmentMs (segment.ms, 7 days): roll a non-empty active segment this long after its
	// first batch's timestamp (or its creation if the batch has none).
	SegmentMs int64
	// RetentionBytes (retention.bytes, -1 = unlimited): delete the oldest segments while
	// the log stays at least this large without them.
	RetentionBytes int64
	// RetentionMs (retention.ms, 7 days, -1 = forever): delete a segment once its largest
	// timestamp is older than this.
	RetentionMs int64
	// IndexIntervalBytes (index.interval.bytes, 4096): bytes of batches between offset
	// index entries. Smaller means faster lookups and bigger indexes.
	IndexIntervalBytes int64
	// SegmentIndexBytes (segment.index.bytes, 10 MiB): roll when the segment's offset or
	// time index reaches this size.
	SegmentIndexBytes int64
	// CleanupPolicyDelete and CleanupPolicyCompact (cleanup.policy, "delete"): which
	// cleanup applies. Retention by time and size deletes segments only with delete;
	// Compact keeps the latest record per key only with compact. Both may be set
	// ("compact,delete").
	CleanupPolicyDelete  bool
	CleanupPolicyCompact bool
	// DeleteRetentionMs (delete.retention.ms, 1 day): how long a tombstone (a record with
	// a null value) outlives its compaction, so that a consumer reading from the start
	// within that time still sees the delete.
	DeleteRetentionMs int64
	// MinCompactionLagMs (min.compaction.lag.ms, 0): a segment is compacted only once its
	// largest timestamp is at least this old.
	MinCompactionLagMs int64
	// MinCleanableDirtyRatio (min.cleanable.dirty.ratio, 0.5): compact only when the bytes
	// not compacted yet are more than this fraction of the cleanable log.
	MinCleanableDirtyRatio float64
	// Logger receives recovery and retention reports; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentMs:          int64(7 * 24 * time.Hour / time.Millisecond),
		RetentionBytes:     -1,
		RetentionMs:        int64(7 * 24 * time.Hour / time.Millisecond),
		IndexIntervalBytes: 4096,
		SegmentIndexBytes:  10 << 20,

		CleanupPolicyDelete:    true,
		DeleteRetentionMs:      int64(24 * time.Hour / time.Millisecond),
		MinCompactionLagMs:     0,
		MinCleanableDirtyRatio: 0.5,
	}
}

// Validate rejects settings the on-disk format cannot hold or Kafka rejects.
func (c Config) Validate() error {
	switch {
	case c.SegmentBytes < 14 || c.SegmentBytes > math.MaxInt32:
		// Index positions are uint32: a segment of at most MaxInt32 bytes plus one batch
		// of at most MaxInt32 bytes always fits.
		return fmt.Errorf("log: segment.bytes %d outside [14, %d]", c.SegmentBytes, math.MaxInt32)
	case c.SegmentMs < 1:
		return fmt.Errorf("log: segment.ms %d must be at least 1", c.SegmentMs)
	case c.RetentionBytes < -1:
		return fmt.Errorf("log: retention.bytes %d must be -1 or more", c.RetentionBytes)
	case c.RetentionMs < -1:
		return fmt.Errorf("log: retention.ms %d must be -1 or more", c.RetentionMs)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("log: index.interval.bytes %d must not be negative", c.IndexIntervalBytes)
	case c.SegmentIndexBytes < timeEntrySize:
		return fmt.Errorf("log: segment.index.bytes %d must hold at least one entry", c.SegmentIndexBytes)
	case c.DeleteRetentionMs < 0:
		return fmt.Errorf("log: delete.retention.ms %d must not be negative", c.DeleteRetentionMs)
	case c.MinCompactionLagMs < 0:
		return fmt.Errorf("log: min.compaction.lag.ms %d must not be negative", c.MinCompactionLagMs)
	case !(c.MinCleanableDirtyRatio >= 0 && c.MinCleanableDirtyRatio <= 1):
		return fmt.Errorf("log: min.cleanable.dirty.ratio %v outside [0, 1]", c.MinCleanableDirtyRatio)
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

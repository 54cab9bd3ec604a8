package log

import "errors"

// Damage found in files; see the package documentation.
var (
	ErrTornBatch         = errors.New("log: batch runs past the end of the segment (torn write)")
	ErrBadBatchHeader    = errors.New("log: invalid batch header")
	ErrBatchChecksum     = errors.New("log: batch CRC-32C mismatch")
	ErrOffsetsOutOfOrder = errors.New("log: batch offsets do not increase")
	ErrSegmentGap        = errors.New("log: segment does not start where the previous one ended")
	ErrIndexCorrupt      = errors.New("log: index file missing or inconsistent with its segment")
	ErrCheckpointCorrupt = errors.New("log: checkpoint file corrupt")
)

// Errors of the API.
var (
	// ErrOffsetOutOfRange: the offset is below StartOffset or above EndOffset.
	ErrOffsetOutOfRange = errors.New("log: offset out of range")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("log: closed")
	// ErrFailed wraps the error that left the log unusable for writing: a failed fsync
	// (after which the kernel may have dropped the dirty pages, so retrying is unsafe)
	// or a failed write that could not be undone. Reads still serve the validated
	// prefix; reopen the log to recover.
	ErrFailed = errors.New("log: failed, reopen to recover")
	// ErrInvalidBatch: the argument to Append or AppendAssigned is not whole v2 batches.
	ErrInvalidBatch = errors.New("log: not a whole v2 record batch")
	// ErrNotContiguous: AppendAssigned got batches whose offsets go backwards.
	ErrNotContiguous = errors.New("log: batch offsets do not continue the log")
)

package log

import (
	"errors"
	"fmt"
	"time"
)

// ApplyRetention rolls the active segment once segment.ms has passed, then, if
// cleanup.policy includes delete, deletes the oldest segments while they are older than retention.ms (by their largest timestamp,
// or their file's modification time if no batch has one) or while the log without them
// is still at least retention.bytes. The active segment is never deleted. It returns how
// many segments it deleted.
func (l *Log) ApplyRetention() (deletedSegments int, err error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		return 0, err
	}
	now := l.now()
	if a := l.activeLocked(); a.size > 0 && l.segmentExpiredWriteLocked(a, now, -1) {
		if err := l.rollWriteLocked(now); err != nil {
			return 0, err
		}
	}

	if !l.cfg.CleanupPolicyDelete { // compact-only topics keep every key's latest record
		return 0, nil
	}
	l.mu.RLock()
	segs := append([]*segment(nil), l.segs...)
	l.mu.RUnlock()
	var total int64
	for _, s := range segs {
		total += s.size
	}
	n := 0
	for _, s := range segs[:len(segs)-1] {
		if !l.expiredWriteLocked(s, now) && !(l.cfg.RetentionBytes >= 0 && total-s.size >= l.cfg.RetentionBytes) {
			break
		}
		total -= s.size
		n++
	}
	if n == 0 {
		return 0, nil
	}
	l.logger.Info("retention deleting segments", "count", n,
		"from", segs[0].base, "to", segs[n].base)
	return n, l.deleteSegmentsWriteLocked(n)
}

// expiredWriteLocked reports whether retention.ms has passed for sealed segment s.
func (l *Log) expiredWriteLocked(s *segment, now time.Time) bool {
	if l.cfg.RetentionMs < 0 {
		return false
	}
	newest := s.maxTs
	if newest < 0 {
		st, err := l.fs.Stat(s.path(logSuffix))
		if err != nil {
			return false
		}
		newest = st.ModTime().UnixMilli()
	}
	return now.UnixMilli()-newest > l.cfg.RetentionMs
}

// DeleteBefore advances the log start offset to offset (Kafka DeleteRecords), durably,
// and deletes the segments wholly below it. Offsets at or below the current start are a
// no-op; offsets above EndOffset fail with ErrOffsetOutOfRange.
func (l *Log) DeleteBefore(offset int64) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.RLock()
	start, end, activeSize := l.start, l.activeLocked().next, l.activeLocked().size
	l.mu.RUnlock()
	if offset <= start {
		return nil
	}
	if offset > end {
		return fmt.Errorf("%w: delete before %d, end is %d", ErrOffsetOutOfRange, offset, end)
	}
	if offset == end && activeSize > 0 { // so that every batch can go
		if err := l.rollWriteLocked(l.now()); err != nil {
			return err
		}
	}
	l.mu.Lock()
	l.start = offset
	l.mu.Unlock()
	// Durable before anything is deleted; Open drops segments below it if we crash.
	if err := l.persistCheckpoint(); err != nil {
		l.mu.Lock()
		l.start = start
		l.mu.Unlock()
		return fmt.Errorf("log: persisting log start offset: %w", err)
	}
	l.mu.RLock()
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1].base <= offset {
		n++
	}
	l.mu.RUnlock()
	return l.deleteSegmentsWriteLocked(n)
}

// deleteSegmentsWriteLocked removes the n oldest segments (never the active one) and
// advances the log start past them.
func (l *Log) deleteSegmentsWriteLocked(n int) error {
	if n == 0 {
		return nil
	}
	l.mu.Lock()
	victims := append([]*segment(nil), l.segs[:n]...)
	l.segs = append([]*segment(nil), l.segs[n:]...)
	l.start = max(l.start, l.segs[0].base)
	l.dirGen++
	l.mu.Unlock()
	var errs []error
	for _, s := range victims {
		errs = append(errs, s.removeFiles(l.fs, l.sidecarSuffixes()))
		s.release()
	}
	// Make the removal durable now: a deleted segment coming back after a power loss
	// would resurrect records below the log start.
	errs = append(errs, l.fs.SyncDir(l.dir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("log: deleting segments: %w", err)
	}
	return nil
}

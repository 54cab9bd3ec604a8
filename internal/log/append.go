package log

import (
	"fmt"
	"time"

	"github.com/waybill/waybill/internal/records"
)

// Append writes one record batch at the end of the log. batch must be exactly one whole
// v2 batch that the caller already validated; Append stamps the base offset (the current
// end offset) and leaderEpoch into batch's header in place (both outside the CRC) and
// writes it. Appended batches are readable at once and durable after a Sync.
//
// On a write error the log cuts the segment back to its previous end, so no partial
// batch is ever served or recovered; if even that fails the log fails (ErrFailed).
func (l *Log) Append(batch []byte, leaderEpoch int32) (AppendResult, error) {
	h, err := records.ParseHeader(batch)
	if err != nil || h.Size() != len(batch) || h.LastOffsetDelta < 0 {
		return AppendResult{}, fmt.Errorf("%w: %d bytes, header %v", ErrInvalidBatch, len(batch), err)
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		return AppendResult{}, err
	}
	h.BaseOffset = l.activeLocked().next
	h.PartitionLeaderEpoch = leaderEpoch
	records.SetBaseOffset(batch, h.BaseOffset)
	records.SetPartitionLeaderEpoch(batch, leaderEpoch)
	seg, pos, err := l.appendWriteLocked(batch, []records.Header{h})
	if err != nil {
		return AppendResult{}, err
	}
	return AppendResult{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(), SegmentBase: seg, Position: pos}, nil
}

// AppendAssigned appends batches whose offsets and leader epochs are already assigned,
// as a follower copies them from its leader. batches holds whole v2 batches back to back;
// each is CRC-checked, the first must start at or after EndOffset and each next one
// after the previous one (ErrNotContiguous); gaps are allowed, since a compacted
// leader's log has them. Nothing is written unless all of them pass.
func (l *Log) AppendAssigned(batches []byte) error {
	var hs []records.Header
	for rest := batches; len(rest) > 0; {
		h, err := records.ParseHeader(rest)
		if err != nil || h.Size() > len(rest) || h.LastOffsetDelta < 0 {
			return fmt.Errorf("%w: at byte %d: %v", ErrInvalidBatch, len(batches)-len(rest), err)
		}
		if err := records.CheckCRC(rest, h); err != nil {
			return fmt.Errorf("%w: offset %d: %w", ErrInvalidBatch, h.BaseOffset, err)
		}
		hs = append(hs, h)
		rest = rest[h.Size():]
	}
	if len(hs) == 0 {
		return nil
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	next := l.activeLocked().next
	for _, h := range hs {
		// A compacted leader's log has gaps, so offsets need only increase.
		if h.BaseOffset < next {
			return fmt.Errorf("%w: batch at %d, expected %d or later", ErrNotContiguous, h.BaseOffset, next)
		}
		next = h.LastOffset() + 1
	}
	_, _, err := l.appendWriteLocked(batches, hs)
	return err
}

// appendWriteLocked writes data, the batches described by hs, rolling segments as
// needed, and publishes them. It returns the segment and position of the first batch.
func (l *Log) appendWriteLocked(data []byte, hs []records.Header) (firstSeg, firstPos int64, err error) {
	now := l.now()
	off := 0
	for i := 0; i < len(hs); {
		s := l.activeLocked()
		if l.shouldRollWriteLocked(s, 0, 0, hs[i], now) {
			if err := l.rollWriteLocked(now); err != nil {
				return 0, 0, err
			}
			s = l.activeLocked()
		}
		// Take the longest run of batches that fits in s, and write it at once.
		j, n := i+1, int64(hs[i].Size())
		for j < len(hs) && !l.shouldRollWriteLocked(s, n, j-i, hs[j], now) {
			n += int64(hs[j].Size())
			j++
		}
		if !s.fitsRelative(hs[i].LastOffset()) {
			// Only a gap of 2^31 offsets after an empty segment gets here (an assigned
			// batch far past the end); the index cannot address it.
			return 0, 0, fmt.Errorf("%w: batch at %d too far past segment %d", ErrNotContiguous, hs[i].BaseOffset, s.base)
		}
		if i == 0 {
			firstSeg, firstPos = s.base, s.size
		}
		if err := l.writeRunWriteLocked(s, data[off:off+int(n)], hs[i:j]); err != nil {
			return 0, 0, err
		}
		off += int(n)
		i = j
	}
	return firstSeg, firstPos, nil
}

// writeRunWriteLocked appends batches to the active segment s and publishes them.
func (l *Log) writeRunWriteLocked(s *segment, run []byte, hs []records.Header) error {
	if w, err := s.log.Write(run); err != nil {
		if w > 0 {
			// Cut the partial run off, so that nothing written after it follows garbage.
			if terr := s.log.Truncate(s.size); terr != nil {
				return l.fail(fmt.Errorf("write %s: %w; truncating back: %w", s.log.Name(), err, terr))
			}
		}
		return fmt.Errorf("log: write %s: %w", s.log.Name(), err)
	}
	l.mu.Lock()
	pos := s.size
	for _, h := range hs {
		s.noteBatchLocked(pos, h, l.cfg.IndexIntervalBytes)
		pos += int64(h.Size())
	}
	l.mu.Unlock()
	return nil
}

// shouldRollWriteLocked reports whether h must go to a new segment rather than after
// pending bytes (pendingBatches batches) already headed for s. An empty segment takes
// any batch.
func (l *Log) shouldRollWriteLocked(s *segment, pending int64, pendingBatches int, h records.Header, now time.Time) bool {
	if s.size+pending == 0 {
		return false
	}
	return s.size+pending+int64(h.Size()) > l.cfg.SegmentBytes ||
		int64(s.idx.n+pendingBatches+1)*offsetEntrySize > l.cfg.SegmentIndexBytes ||
		int64(s.tidx.n+pendingBatches+1)*timeEntrySize > l.cfg.SegmentIndexBytes ||
		!s.fitsRelative(h.LastOffset()) ||
		l.segmentExpiredWriteLocked(s, now, h.MaxTimestamp)
}

// segmentExpiredWriteLocked reports whether segment.ms has passed for s: on the wall
// clock since s was created (or opened), or, as Kafka does, between the timestamps of
// its first batch and batchTs (-1 when there is no batch). Batch timestamps are never
// compared with the clock, so a producer replaying old data does not roll every batch.
func (l *Log) segmentExpiredWriteLocked(s *segment, now time.Time, batchTs int64) bool {
	if now.Sub(s.created) > time.Duration(l.cfg.SegmentMs)*time.Millisecond {
		return true
	}
	return s.firstTs >= 0 && batchTs >= 0 && batchTs-s.firstTs > l.cfg.SegmentMs
}

// rollWriteLocked seals the active segment and starts a new one at the end offset. The
// sealed segment's files are fsynced by the next Sync.
func (l *Log) rollWriteLocked(now time.Time) error {
	old := l.activeLocked()
	f, err := l.fs.Create(segmentPath(l.dir, old.next, logSuffix))
	if err != nil {
		return fmt.Errorf("log: roll: %w", err)
	}
	ns := newSegment(l.dir, old.next, f, now)
	if err := l.createSidecars(ns.base); err != nil {
		f.Close()
		l.fs.Remove(ns.path(logSuffix))
		return fmt.Errorf("log: roll: %w", err)
	}
	l.mu.Lock()
	old.maybeAddTimeEntryLocked() // the last time entry is the segment's maximum
	l.mu.Unlock()
	idx, tidx, err := old.writeIndexFiles(l.fs)
	if err != nil {
		f.Close()
		l.fs.Remove(ns.path(logSuffix))
		return fmt.Errorf("log: roll: %w", err)
	}
	l.mu.Lock()
	old.sealLocked(idx, tidx)
	l.segs = append(l.segs, ns)
	l.dirGen++
	l.mu.Unlock()
	return nil
}

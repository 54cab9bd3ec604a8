package log

import (
	"errors"
	"fmt"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// Truncate removes every batch whose last offset is >= offset, so the end offset becomes
// the base of the batch holding offset (offset itself when it falls on a batch boundary,
// as replication truncation does), or, where compaction left a gap before offset, the
// end of the last batch kept. An offset below the log start empties the log and
// restarts it at offset. The result is durable when Truncate returns. Chunks already
// handed out that cover removed bytes become unreadable.
func (l *Log) Truncate(offset int64) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.RLock()
	start, end := l.start, l.activeLocked().next
	l.mu.RUnlock()
	if offset >= end {
		return nil
	}
	if offset < start {
		return l.resetWriteLocked(offset)
	}

	// Find the cut: segment k, position pos, new end offset newEnd.
	l.mu.RLock()
	k := l.segmentIndexLocked(offset)
	v := l.segs[k].viewLocked()
	l.mu.RUnlock()
	r := newBatchReader(v.seg.log, v.size, lookupWindow)
	pos, _, found, err := v.locate(r, offset)
	if err != nil {
		return err
	}
	newEnd := v.next
	if found {
		// The end of the batch before the cut: the cut batch's base offset, unless
		// compaction left a gap before it.
		if newEnd, err = v.endBefore(r, pos); err != nil {
			return err
		}
	}
	if newEnd < start { // the batch holding offset straddles the log start
		return l.resetWriteLocked(offset)
	}
	if pos == 0 && k > 0 { // the whole segment goes: its predecessor becomes active
		k--
		l.mu.RLock()
		pos, newEnd = l.segs[k].size, l.segs[k].next
		l.mu.RUnlock()
	}
	s := l.segs[k]

	// Offsets appended after the cut will not have been compacted.
	if err := l.lowerCleanedToWriteLocked(newEnd); err != nil {
		return fmt.Errorf("log: truncate: %w", err)
	}
	// Lower the recovery point durably first: a crash mid-way must not leave a cut
	// segment that Open would trust.
	l.mu.Lock()
	l.truncGen++
	for _, t := range l.segs[k:] {
		t.synced = false
	}
	l.recoveryPoint = min(l.recoveryPoint, s.base)
	l.mu.Unlock()
	if err := l.persistCheckpoint(); err != nil {
		return fmt.Errorf("log: truncate: %w", err)
	}

	st, err := s.stateBefore(pos, newEnd)
	if err != nil {
		return err
	}
	l.mu.Lock()
	victims := append([]*segment(nil), l.segs[k+1:]...)
	l.segs = l.segs[: k+1 : k+1]
	retired := st.applyLocked(s)
	l.durable = min(l.durable, newEnd)
	l.dirGen++
	l.mu.Unlock()

	var errs []error
	for _, f := range retired {
		errs = append(errs, l.fs.Remove(f.Name()))
	}
	for _, t := range victims {
		errs = append(errs, t.removeFiles(l.fs, l.sidecarSuffixes()))
		t.release()
	}
	if err := errors.Join(errs...); err != nil {
		return l.fail(fmt.Errorf("truncate: removing files: %w", err))
	}
	if err := s.log.Truncate(pos); err != nil {
		return l.fail(fmt.Errorf("truncate %s: %w", s.log.Name(), err))
	}
	if err := s.log.Sync(); err != nil {
		return l.fail(err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(err)
	}
	if _, err := l.Sync(); err != nil { // sealed segments below the cut, if still pending
		return err
	}
	l.mu.Lock()
	l.durable = newEnd
	l.mu.Unlock()
	l.logger.Info("truncated log", "offset", offset, "end", newEnd)
	return nil
}

// segmentState is what a segment cut at a position looks like.
type segmentState struct {
	pos, next       int64
	idx, tidx       entryTable
	maxTs, maxTsOff int64
	bytesSinceIndex int64
}

// stateBefore computes s's state when cut at pos (a batch boundary) with end offset
// next: in-memory indexes without entries at or past the cut, and the timestamp maximum
// over what remains. The caller holds writeMu, so s cannot change meanwhile.
func (s *segment) stateBefore(pos, next int64) (segmentState, error) {
	st := segmentState{pos: pos, next: next, maxTs: -1, maxTsOff: s.base}
	var err error
	if st.idx, err = loadToMemory(s.idx); err != nil {
		return st, err
	}
	if st.tidx, err = loadToMemory(s.tidx); err != nil {
		return st, err
	}
	n, err := st.idx.search(func(e []byte) bool { _, p := decodeOffsetEntry(e); return int64(p) >= pos })
	if err != nil {
		return st, err
	}
	st.idx.cut(n)
	n, err = st.tidx.search(func(e []byte) bool { _, r := decodeTimeEntry(e); return s.base+int64(r) >= next })
	if err != nil {
		return st, err
	}
	st.tidx.cut(n)

	// The last surviving time entry bounds everything up to its batch; scan the rest.
	from := int64(0)
	if e, _ := st.tidx.last(); e != nil {
		ts, rel := decodeTimeEntry(e)
		st.maxTs, st.maxTsOff = ts, s.base+int64(rel)
		if _, from, err = floorOffset(st.idx, rel); err != nil {
			return st, err
		}
	}
	v := view{seg: s, size: pos, next: next, idx: st.idx}
	_, _, _, err = v.scanTo(newBatchReader(s.log, pos, lookupWindow), from, func(h records.Header) bool {
		if h.MaxTimestamp > st.maxTs {
			st.maxTs, st.maxTsOff = h.MaxTimestamp, h.BaseOffset
		}
		return false
	})
	st.bytesSinceIndex = pos
	if e, _ := st.idx.last(); e != nil {
		_, p := decodeOffsetEntry(e)
		st.bytesSinceIndex = pos - int64(p)
	}
	return st, err
}

// applyLocked installs st as s's state, making s active again, and returns the index
// files it replaced: they must be removed, but stay open until s is released.
func (st segmentState) applyLocked(s *segment) (retired []vfs.File) {
	for _, f := range []vfs.File{s.idx.file, s.tidx.file} {
		if f != nil {
			retired = append(retired, f)
		}
	}
	s.retired = append(s.retired, retired...)
	s.size, s.next = st.pos, st.next
	s.idx, s.tidx = st.idx, st.tidx
	s.maxTs, s.maxTsOffset = st.maxTs, st.maxTsOff
	s.bytesSinceIndex = st.bytesSinceIndex
	s.sealed, s.synced = false, false
	if s.size == 0 {
		s.firstTs = -1
	}
	return retired
}

// Reset replaces the whole log with an empty one starting at offset, as a follower does
// when its leader's log starts past its end. The result is durable when Reset returns.
func (l *Log) Reset(offset int64) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	return l.resetWriteLocked(offset)
}

// resetWriteLocked replaces the whole log with an empty segment at offset.
func (l *Log) resetWriteLocked(offset int64) error {
	if err := l.lowerCleanedToWriteLocked(offset); err != nil {
		return fmt.Errorf("log: truncate: %w", err)
	}
	f, err := l.fs.Create(segmentPath(l.dir, offset, logSuffix))
	if err != nil {
		return err
	}
	ns := newSegment(l.dir, offset, f, l.now())
	if err := l.createSidecars(offset); err != nil {
		f.Close()
		return l.fail(fmt.Errorf("truncate: resetting log: %w", err))
	}
	l.mu.Lock()
	l.truncGen++
	victims := l.segs
	l.segs = []*segment{ns}
	l.start, l.recoveryPoint, l.durable = offset, offset, offset
	l.dirGen++
	l.mu.Unlock()
	var errs []error
	for _, t := range victims {
		if t.base != offset { // the new segment may have replaced a file of that name
			errs = append(errs, t.removeFiles(l.fs, l.sidecarSuffixes()))
		}
		t.release()
	}
	// Old segments must be gone for good before the checkpoint moves the start back.
	errs = append(errs, l.fs.SyncDir(l.dir))
	if err := errors.Join(errs...); err != nil {
		return l.fail(fmt.Errorf("truncate: resetting log: %w", err))
	}
	if err := l.persistCheckpoint(); err != nil {
		return l.fail(fmt.Errorf("truncate: resetting log: %w", err))
	}
	l.logger.Info("truncated log fully", "start", offset)
	return nil
}

// endBefore returns the offset after the last batch before position pos (a batch
// boundary), or the segment's base when pos is 0.
func (v view) endBefore(r *batchReader, pos int64) (int64, error) {
	if pos == 0 {
		return v.seg.base, nil
	}
	from, err := floorPosition(v.idx, pos-1)
	if err != nil {
		return 0, err
	}
	end := v.seg.base
	for p := from; p < pos; {
		h, err := r.header(p)
		if err != nil {
			return 0, err
		}
		end = h.LastOffset() + 1
		p += int64(h.Size())
	}
	return end, nil
}

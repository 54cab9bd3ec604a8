package log

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/vfs"
)

// Open opens the log in dir, creating it if needed, and recovers it (see the package
// documentation). now is the clock for segment.ms and retention.ms; nil means
// time.Now. When Open returns, everything it recovered is durable.
func Open(fsys vfs.FS, dir string, cfg Config, now func() time.Time, opts ...Option) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	l := &Log{fs: fsys, dir: dir, now: now, cfg: cfg, logger: cfg.logger().With("dir", dir), durable: -1}
	for _, opt := range opts {
		opt(l)
	}
	if err := l.recover(); err != nil {
		for _, s := range l.segs {
			s.release()
		}
		return nil, fmt.Errorf("log: open %s: %w", dir, err)
	}
	return l, nil
}

// recover builds the segment list from dir. The log is not shared yet, so it touches
// fields without locks.
func (l *Log) recover() error {
	if err := l.fs.MkdirAll(l.dir); err != nil {
		return err
	}
	if err := l.fs.SyncDir(filepath.Dir(l.dir)); err != nil {
		return err
	}
	ckpt, haveCkpt, err := readCheckpoint(l.fs, l.dir)
	if errors.Is(err, ErrCheckpointCorrupt) {
		l.logger.Warn("ignoring checkpoint; scanning every segment", "damage", err)
	} else if err != nil {
		return err
	}
	if err := l.finishInterruptedSwaps(); err != nil {
		return err
	}
	clean, err := l.openSegments()
	if err != nil {
		return err
	}
	if clean {
		l.logger.Debug("clean shutdown; skipping recovery scan", "dir", l.dir)
	}

	for i := 0; i < len(l.segs); i++ {
		s, last := l.segs[i], i == len(l.segs)-1
		nextBase := int64(math.MaxInt64)
		if !last {
			nextBase = l.segs[i+1].base
		}
		if clean || (!last && haveCkpt && nextBase <= ckpt.recoveryPoint) {
			err := l.loadTrusted(s, last, nextBase)
			if err == nil {
				continue
			}
			if !errors.Is(err, ErrIndexCorrupt) {
				return err
			}
			l.logger.Warn("rebuilding index", "segment", s.base, "damage", err)
			s.size, s.next, s.idx, s.tidx = 0, s.base, entryTable{width: offsetEntrySize}, entryTable{width: timeEntrySize}
			s.maxTs, s.maxTsOffset, s.bytesSinceIndex = -1, s.base, 0
		}
		damage, err := l.scanSegment(s, 0)
		if err != nil {
			return err
		}
		if !last && (damage != nil || s.next != nextBase) {
			if damage == nil {
				damage = ErrSegmentGap
			}
			l.logger.Warn("deleting segments after a damaged or short one",
				"segment", s.base, "end", s.next, "next_segment", nextBase, "count", len(l.segs)-i-1,
				"damage", damage)
			l.dropSegments(i + 1)
			last = true
		}
		if !last {
			s.maybeAddTimeEntryLocked()
			idx, tidx, err := s.writeIndexFiles(l.fs)
			if err != nil {
				return err
			}
			s.sealLocked(idx, tidx)
		}
	}
	if err := l.settleStart(ckpt, haveCkpt); err != nil {
		return err
	}
	if err := l.loadCleanedTo(); err != nil {
		return err
	}
	if clean {
		if err := l.fs.Remove(dirPath(l.dir, cleanMarkerName)); err != nil {
			return err
		}
	}
	// The active segment's first timestamp drives segment.ms.
	if a := l.activeLocked(); a.size > 0 {
		h, err := newBatchReader(a.log, a.size, lookupWindow).header(0)
		if err != nil {
			return err
		}
		a.firstTs = h.MaxTimestamp
	}
	if haveCkpt {
		l.recoveryPoint = ckpt.recoveryPoint
		l.persisted = ckpt
	}
	l.dirGen++ // removals above, and the marker, must be durable before we go on
	if _, err := l.Sync(); err != nil {
		return err
	}
	return l.persistCheckpoint()
}

// openSegments opens every .log in dir, removes leftovers, and reports whether the
// clean-shutdown marker is present.
func (l *Log) openSegments() (clean bool, err error) {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return false, err
	}
	logs := map[int64]bool{}
	for _, name := range names {
		if base, ok := parseSegmentName(name); ok {
			logs[base] = true
		}
	}
	for _, name := range names {
		if base, ok := parseSegmentName(name); ok {
			f, err := l.fs.OpenAppend(dirPath(l.dir, name))
			if err != nil {
				return false, err
			}
			l.segs = append(l.segs, newSegment(l.dir, base, f, l.now()))
			continue
		}
		stem, isIndex := cutIndexSuffix(name, l.indexSuffixes())
		base, _ := parseSegmentName(stem + logSuffix)
		switch {
		case name == cleanMarkerName:
			clean = true
		case strings.HasSuffix(name, tmpSuffix), isIndex && !logs[base]:
			if err := l.fs.Remove(dirPath(l.dir, name)); err != nil {
				return false, err
			}
		}
	}
	return clean, nil
}

// loadTrusted sets s up from its index files without scanning it. For the last segment
// (after a clean shutdown) it still validates the batches after the last index entry,
// which also finds the end offset.
func (l *Log) loadTrusted(s *segment, last bool, nextBase int64) error {
	size, err := s.log.Size()
	if err != nil {
		return err
	}
	maxRel := min(nextBase-s.base, math.MaxInt32+1)
	idx, err := openIndexFile(l.fs, s.path(indexSuffix), offsetEntrySize, maxRel, size)
	if err != nil {
		return err
	}
	tidx, err := openIndexFile(l.fs, s.path(timeIndexSuffix), timeEntrySize, maxRel, size)
	if err != nil {
		idx.file.Close()
		return err
	}
	s.idx, s.tidx, s.size = idx, tidx, size
	if e, err := tidx.last(); err != nil {
		return err
	} else if e != nil {
		ts, rel := decodeTimeEntry(e)
		s.maxTs, s.maxTsOffset = ts, s.base+int64(rel)
	}
	if !last {
		s.next, s.sealed, s.synced = nextBase, true, true
		return nil
	}

	// The active segment keeps its indexes in memory.
	s.idx, err = loadToMemory(idx)
	if err == nil {
		s.tidx, err = loadToMemory(tidx)
	}
	idx.file.Close()
	tidx.file.Close()
	if err != nil {
		return err
	}
	from, expect := int64(0), s.base
	if e, _ := s.idx.last(); e != nil {
		rel, pos := decodeOffsetEntry(e)
		s.idx.cut(s.idx.n - 1)                       // re-added by the scan below
		s.bytesSinceIndex = l.cfg.IndexIntervalBytes // so that it is
		from, expect = int64(pos), s.base+int64(rel)
	}
	s.size, s.next = from, expect
	_, err = l.scanSegment(s, from)
	return err
}

// scanSegment validates s's batches from position from (where s.size and s.next must
// already point), noting each valid one, and cuts the file at the first damaged batch.
// damage says what was found; err is an I/O error.
func (l *Log) scanSegment(s *segment, from int64) (damage error, err error) {
	fileSize, err := s.log.Size()
	if err != nil {
		return nil, err
	}
	r := newBatchReader(s.log, fileSize, recoverWindow)
	pos := from
	for pos < fileSize {
		h, err := r.header(pos)
		if errors.Is(err, ErrTornBatch) || errors.Is(err, ErrBadBatchHeader) {
			damage = err
			break
		}
		if err != nil {
			return nil, err
		}
		// Compaction leaves gaps, so offsets need only increase.
		if h.BaseOffset < s.next || h.LastOffsetDelta < 0 || !s.fitsRelative(h.LastOffset()) {
			damage = fmt.Errorf("%w: batch at %d, expected %d or later", ErrOffsetsOutOfOrder, h.BaseOffset, s.next)
			break
		}
		if err := r.checkCRC(pos, h); errors.Is(err, ErrBatchChecksum) {
			damage = err
			break
		} else if err != nil {
			return nil, err
		}
		s.noteBatchLocked(pos, h, l.cfg.IndexIntervalBytes)
		pos += int64(h.Size())
	}
	if damage == nil {
		return nil, nil
	}
	l.logger.Warn("truncating damaged segment tail", "segment", s.base, "position", pos,
		"bytes_dropped", fileSize-pos, "end", s.next, "damage", damage)
	if err := s.log.Truncate(pos); err != nil {
		return damage, err
	}
	// Durable at once, so the damage cannot come back under batches appended later.
	return damage, s.log.Sync()
}

// dropSegments deletes segments from index i on.
func (l *Log) dropSegments(i int) {
	for _, t := range l.segs[i:] {
		if err := t.removeFiles(l.fs, l.sidecarSuffixes()); err != nil {
			l.logger.Warn("removing segment", "segment", t.base, "err", err)
		}
		t.release()
	}
	l.segs = l.segs[:i]
}

// settleStart sets the log start offset from the checkpoint and the first segment,
// deletes segments wholly below it, and makes sure an active segment exists.
func (l *Log) settleStart(ckpt checkpoint, haveCkpt bool) error {
	start := int64(0)
	if haveCkpt {
		start = ckpt.logStart
	}
	if len(l.segs) > 0 {
		start = max(start, l.segs[0].base)
		if end := l.activeLocked().next; start > end {
			// A crash lost data past a durable DeleteBefore: the log restarts there.
			l.logger.Warn("log start beyond recovered end; emptying log", "start", start, "end", end)
			l.dropSegments(0)
		}
	}
	if len(l.segs) == 0 {
		f, err := l.fs.Create(segmentPath(l.dir, start, logSuffix))
		if err != nil {
			return err
		}
		l.segs = []*segment{newSegment(l.dir, start, f, l.now())}
		if err := l.createSidecars(start); err != nil {
			return err
		}
	}
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1].base <= start {
		n++
	}
	if n > 0 {
		victims := l.segs[:n]
		l.segs = l.segs[n:]
		for _, t := range victims {
			if err := t.removeFiles(l.fs, l.sidecarSuffixes()); err != nil {
				return err
			}
			t.release()
		}
	}
	l.start = start
	return nil
}

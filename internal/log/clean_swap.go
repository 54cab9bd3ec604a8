package log

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/waybill/waybill/internal/vfs"
)

// The swap protocol (see the package documentation) moves a compacted segment through
// three states on disk, each a set of names:
//
//	writing:   B.log.cleaned B.index.cleaned B.timeindex.cleaned   → Open rolls back
//	committed: B.log.swap (+ B.index.swap B.timeindex.swap)       → Open rolls forward
//	done:      B.log B.index B.timeindex, sources gone
//
// The .log's .swap name is the commit point: it is made durable only after the three
// files are fsynced and the index files carry their .swap names, and it is renamed
// last, after the sources' removal is durable.

// swapIn replaces the segments of g (as planned) with the cleaned segment c. It returns
// false, after discarding c, if g is no longer in the log as planned: a Truncate,
// retention or DeleteBefore ran meanwhile.
func (l *Log) swapIn(g []view, c *cleanedSegment) (bool, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		c.discard(l.fs)
		return false, err
	}
	l.mu.RLock()
	at, ok := l.groupIndexLocked(g)
	l.mu.RUnlock()
	if !ok {
		c.discard(l.fs)
		return false, nil
	}

	base := c.seg.base
	if err := l.commitSwap(base); err != nil {
		return false, err
	}
	replaced := make([]int64, 0, len(g)-1)
	for _, v := range g[1:] {
		replaced = append(replaced, v.seg.base)
	}
	if err := completeSwap(l.fs, l.dir, base, replaced, l.sidecarSuffixes()); err != nil {
		return false, l.fail(fmt.Errorf("compact: finishing swap of segment %d: %w", base, err))
	}
	ns, err := l.openSwappedSegment(c.seg)
	if err != nil {
		return false, l.fail(fmt.Errorf("compact: opening segment %d: %w", base, err))
	}

	l.mu.Lock()
	segs := make([]*segment, 0, len(l.segs)-len(g)+1)
	segs = append(segs, l.segs[:at]...)
	segs = append(segs, ns)
	segs = append(segs, l.segs[at+len(g):]...)
	l.segs = segs
	l.mu.Unlock()
	for _, v := range g {
		v.seg.release() // the log's own reference; readers keep theirs until Release
	}
	return true, nil
}

// groupIndexLocked returns where g's segments sit in l.segs, or false if they are no
// longer there, sealed and durable, all before the active segment.
func (l *Log) groupIndexLocked(g []view) (int, bool) {
	at := l.segmentIndexLocked(g[0].seg.base)
	for j, v := range g {
		i := at + j
		if i >= len(l.segs)-1 || l.segs[i] != v.seg || !v.seg.sealed || !v.seg.synced ||
			v.seg.size != v.size || v.seg.next != v.next {
			return 0, false
		}
	}
	return at, true
}

// commitSwap renames the .cleaned files to .swap, the .log last, and makes the names
// durable. Before the directory sync succeeds nothing is committed, so a failed rename
// rolls back; a failed directory sync fails the log (the commit may or may not be
// durable, and only Open can tell).
func (l *Log) commitSwap(base int64) error {
	sidecars := l.sidecarSuffixes()
	for _, suffix := range append(l.indexSuffixes(), logSuffix) {
		err := l.fs.Rename(cleanedPath(l.dir, base, suffix), swapPath(l.dir, base, suffix))
		if err != nil && isNotExist(err) && slices.Contains(sidecars, suffix) {
			continue // left out by compaction: its user rebuilds it
		}
		if err != nil {
			for _, s := range append([]string{logSuffix}, l.indexSuffixes()...) {
				l.fs.Remove(cleanedPath(l.dir, base, s))
				l.fs.Remove(swapPath(l.dir, base, s))
			}
			return fmt.Errorf("log: compact: committing segment %d: %w", base, err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("compact: committing segment %d: %w", base, err))
	}
	return nil
}

// completeSwap finishes a committed swap: it removes the replaced segments (the
// sources other than the one at base, whose names the swap takes over), gives the
// indexes their final names, makes that durable, and only then renames the .log.
// It is idempotent, so Open can rerun it after a crash at any step.
// sidecars are the suffixes of the user's per-segment files, handled as the indexes.
func completeSwap(fsys vfs.FS, dir string, base int64, replaced []int64, sidecars []string) error {
	var errs []error
	others := append([]string{indexSuffix, timeIndexSuffix}, sidecars...)
	for _, b := range replaced {
		for _, suffix := range append([]string{logSuffix}, others...) {
			if err := fsys.Remove(segmentPath(dir, b, suffix)); err != nil && !isNotExist(err) {
				errs = append(errs, err)
			}
		}
	}
	for _, suffix := range others {
		err := fsys.Rename(swapPath(dir, base, suffix), segmentPath(dir, base, suffix))
		if isNotExist(err) {
			// Renamed before a crash, or lost (or a sidecar compaction left out):
			// either way the final name may hold the source's file, which must not
			// describe the new .log. Open rebuilds an index; a sidecar's user, its own.
			if err := fsys.Remove(segmentPath(dir, base, suffix)); err != nil && !isNotExist(err) {
				errs = append(errs, err)
			}
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The sources must be gone for good before the swap stops being visible: a source
	// resurrected next to the new segment would overlap it.
	if err := fsys.SyncDir(dir); err != nil {
		return err
	}
	if err := fsys.Rename(swapPath(dir, base, logSuffix), segmentPath(dir, base, logSuffix)); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}

// openSwappedSegment opens the swapped-in files under their final names (so that the
// segment behaves like any other, including a Truncate making it active again) with
// the state computed while writing it.
func (l *Log) openSwappedSegment(c *segment) (*segment, error) {
	f, err := l.fs.OpenAppend(c.path(logSuffix))
	if err != nil {
		return nil, err
	}
	idx, err := l.fs.Open(c.path(indexSuffix))
	if err != nil {
		f.Close()
		return nil, err
	}
	tidx, err := l.fs.Open(c.path(timeIndexSuffix))
	if err != nil {
		f.Close()
		idx.Close()
		return nil, err
	}
	ns := newSegment(l.dir, c.base, f, c.created)
	ns.size, ns.next = c.size, c.next
	ns.maxTs, ns.maxTsOffset, ns.firstTs = c.maxTs, c.maxTsOffset, c.firstTs
	ns.idx, ns.tidx = c.idx, c.tidx
	ns.sealLocked(idx, tidx) // not shared yet
	ns.synced = true         // every file was fsynced before the commit
	return ns, nil
}

// finishInterruptedSwaps runs at Open, before the segments are read: it removes
// .cleaned files (a swap not committed: the sources are intact) and completes every
// committed swap (a .log.swap), so that recovery sees either the sources or the
// compacted segment, never a mix.
func (l *Log) finishInterruptedSwaps() error {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return err
	}
	var logBases, swaps []int64
	var orphans []string // index .swap files, kept only if their .log.swap exists
	changed := false
	for _, name := range names {
		stem, isSwap := strings.CutSuffix(name, swapSuffix)
		switch {
		case strings.HasSuffix(name, cleanedSuffix):
			if err := l.fs.Remove(dirPath(l.dir, name)); err != nil {
				return err
			}
			changed = true
		case isSwap && strings.HasSuffix(stem, logSuffix):
			if base, ok := parseSegmentName(stem); ok {
				swaps = append(swaps, base)
			}
		case isSwap:
			orphans = append(orphans, name)
		default:
			if base, ok := parseSegmentName(name); ok {
				logBases = append(logBases, base)
			}
		}
	}
	for _, base := range swaps {
		end, err := l.swapEnd(base)
		if err != nil {
			return err
		}
		var replaced []int64
		for _, b := range logBases {
			if b > base && b < end {
				replaced = append(replaced, b)
			}
		}
		l.logger.Warn("finishing a compaction swap interrupted by a crash",
			"segment", base, "end", end, "replacing", len(replaced)+1)
		if err := completeSwap(l.fs, l.dir, base, replaced, l.sidecarSuffixes()); err != nil {
			return err
		}
		changed = true
	}
	for _, name := range orphans {
		stem, _ := cutIndexSuffix(strings.TrimSuffix(name, swapSuffix), l.indexSuffixes())
		if base, ok := parseSegmentName(stem + logSuffix); ok && slices.Contains(swaps, base) {
			continue // renamed by completeSwap
		}
		if err := l.fs.Remove(dirPath(l.dir, name)); err != nil && !isNotExist(err) {
			return err
		}
		changed = true
	}
	if changed {
		return l.fs.SyncDir(l.dir)
	}
	return nil
}

// swapEnd returns the offset after the last valid batch of a committed .log.swap: the
// sources it replaces are the segments based below it.
func (l *Log) swapEnd(base int64) (int64, error) {
	f, err := l.fs.Open(swapPath(l.dir, base, logSuffix))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, err
	}
	r := newBatchReader(f, size, recoverWindow)
	end := base
	for pos := int64(0); pos < size; {
		h, err := r.header(pos)
		if errors.Is(err, ErrTornBatch) || errors.Is(err, ErrBadBatchHeader) {
			break // fsynced before the commit, so this is later damage; recovery reports it
		}
		if err != nil {
			return 0, err
		}
		if err := r.checkCRC(pos, h); errors.Is(err, ErrBatchChecksum) {
			break
		} else if err != nil {
			return 0, err
		}
		end = h.LastOffset() + 1
		pos += int64(h.Size())
	}
	return end, nil
}

package log

import (
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// segment is one .log file with its indexes.
//
// Fields marked "mu" are written under Log.mu held for writing, and only by the goroutine
// holding Log.writeMu; so that goroutine may read them without Log.mu, and everyone else
// reads them under Log.mu.
type segment struct {
	base int64
	dir  string
	log  vfs.File

	size            int64      // mu: published bytes; readers never look past it
	next            int64      // mu: offset after the last batch
	idx             entryTable // mu
	tidx            entryTable // mu
	maxTs           int64      // mu: largest batch MaxTimestamp, -1 if none
	maxTsOffset     int64      // mu: base offset of the batch holding maxTs
	firstTs         int64      // mu: first batch's MaxTimestamp, -1 if none (for segment.ms)
	created         time.Time  // when this process created or opened the segment
	bytesSinceIndex int64      // appender only: batch bytes since the last index entry
	sealed          bool       // mu: rolled; indexes are file-backed
	synced          bool       // mu: sealed and .log, .index, .timeindex all fsynced

	// refs counts the log's own reference plus one per Chunks, Sync or lookup in flight;
	// the files are closed when it drops to zero, so a removed segment stays readable.
	refs atomic.Int32
	// retired holds index files replaced while references may still use them.
	retired []vfs.File
}

func newSegment(dir string, base int64, f vfs.File, created time.Time) *segment {
	s := &segment{
		base: base, dir: dir, log: f, next: base,
		idx:         entryTable{width: offsetEntrySize},
		tidx:        entryTable{width: timeEntrySize},
		maxTs:       -1,
		maxTsOffset: base,
		firstTs:     -1,
		created:     created,
	}
	s.refs.Store(1)
	return s
}

func (s *segment) acquire() { s.refs.Add(1) }

// release drops a reference and closes the files with the last one.
func (s *segment) release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	s.log.Close()
	for _, t := range []entryTable{s.idx, s.tidx} {
		if t.file != nil {
			t.file.Close()
		}
	}
	for _, f := range s.retired {
		f.Close()
	}
}

func (s *segment) path(suffix string) string { return segmentPath(s.dir, s.base, suffix) }

// relative converts an offset of this segment to its index form.
func (s *segment) relative(offset int64) uint32 { return uint32(offset - s.base) }

// fitsRelative reports whether a batch ending at lastOffset can live in this segment.
func (s *segment) fitsRelative(lastOffset int64) bool {
	return lastOffset-s.base <= math.MaxInt32
}

// noteBatchLocked records a batch just placed at pos: indexes, end, timestamps. It is
// the one rule for index entries, shared by Append and recovery, so a rebuilt index
// equals the one written while appending. Log.mu is held for writing (or, during Open,
// the log is not shared yet).
func (s *segment) noteBatchLocked(pos int64, h records.Header, interval int64) {
	if s.size == 0 {
		s.firstTs = h.MaxTimestamp
	}
	if h.MaxTimestamp > s.maxTs {
		s.maxTs, s.maxTsOffset = h.MaxTimestamp, h.BaseOffset
	}
	if s.bytesSinceIndex >= interval {
		s.idx.add(offsetEntry(s.relative(h.BaseOffset), uint32(pos)))
		s.bytesSinceIndex = 0
		s.maybeAddTimeEntryLocked()
	}
	s.bytesSinceIndex += int64(h.Size())
	s.size = pos + int64(h.Size())
	s.next = h.LastOffset() + 1
}

// maybeAddTimeEntryLocked adds a time index entry if the maximum grew since the last.
func (s *segment) maybeAddTimeEntryLocked() {
	last := int64(-1)
	if s.tidx.n > 0 {
		e := s.tidx.mem[(s.tidx.n-1)*timeEntrySize:]
		last, _ = decodeTimeEntry(e)
	}
	if s.maxTs > last {
		s.tidx.add(timeEntry(s.maxTs, s.relative(s.maxTsOffset)))
	}
}

// writeIndexFiles writes the in-memory indexes to .index and .timeindex (not synced) and
// returns the open files. The caller holds Log.writeMu.
func (s *segment) writeIndexFiles(fsys vfs.FS) (idx, tidx vfs.File, err error) {
	write := func(suffix string, b []byte) (vfs.File, error) {
		f, err := fsys.Create(s.path(suffix))
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	if idx, err = write(indexSuffix, s.idx.mem); err != nil {
		return nil, nil, err
	}
	if tidx, err = write(timeIndexSuffix, s.tidx.mem); err != nil {
		idx.Close()
		return nil, nil, err
	}
	return idx, tidx, nil
}

// sealLocked makes the segment's indexes file-backed. Log.mu is held for writing.
func (s *segment) sealLocked(idx, tidx vfs.File) {
	s.idx = entryTable{width: offsetEntrySize, file: idx, n: s.idx.n}
	s.tidx = entryTable{width: timeEntrySize, file: tidx, n: s.tidx.n}
	s.sealed, s.synced = true, false
}

// syncFiles fsyncs the segment's .log and, if sealed, its index files.
func (s *segment) syncFiles(sealed bool, idx, tidx vfs.File) error {
	if err := s.log.Sync(); err != nil {
		return err
	}
	if !sealed {
		return nil
	}
	return errors.Join(idx.Sync(), tidx.Sync())
}

// removeFiles deletes the segment's names; open handles keep working until release.
// sidecars are the suffixes of the user's per-segment files (see Sidecar).
func (s *segment) removeFiles(fsys vfs.FS, sidecars []string) error {
	var errs []error
	for _, suffix := range append([]string{logSuffix, indexSuffix, timeIndexSuffix}, sidecars...) {
		if err := fsys.Remove(s.path(suffix)); err != nil && !isNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// view is what a reader needs of a segment, copied under Log.mu.
type view struct {
	seg  *segment
	size int64
	next int64
	idx  entryTable
	tidx entryTable
}

func (s *segment) viewLocked() view {
	return view{seg: s, size: s.size, next: s.next, idx: s.idx, tidx: s.tidx}
}

// scanTo walks batches from the batch boundary from and returns the first one for which
// stop is true; found is false when the published part of the segment ends first.
func (v view) scanTo(r *batchReader, from int64, stop func(h records.Header) bool) (pos int64, h records.Header, found bool, err error) {
	for pos = from; pos < v.size; pos += int64(h.Size()) {
		if h, err = r.header(pos); err != nil {
			return pos, h, false, err
		}
		if stop(h) {
			return pos, h, true, nil
		}
	}
	return pos, records.Header{}, false, nil
}

// locate returns the position and header of the batch holding offset, or of the first
// batch after it; found is false if the segment has none.
func (v view) locate(r *batchReader, offset int64) (int64, records.Header, bool, error) {
	if offset < v.seg.base {
		offset = v.seg.base
	}
	if offset >= v.next {
		return v.size, records.Header{}, false, nil
	}
	_, from, err := floorOffset(v.idx, v.seg.relative(offset))
	if err != nil {
		return 0, records.Header{}, false, err
	}
	return v.scanTo(r, from, func(h records.Header) bool { return h.LastOffset() >= offset })
}

// readBatch returns a copy of the batch at pos.
func (v view) readBatch(pos int64, h records.Header) ([]byte, error) {
	b := make([]byte, h.Size())
	if _, err := v.seg.log.ReadAt(b, pos); err != nil {
		return nil, err
	}
	return b, nil
}

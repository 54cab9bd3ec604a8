package log

import (
	"errors"
	"fmt"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

const (
	cleanedSuffix = ".cleaned" // a compacted segment being written; removed at Open
	swapSuffix    = ".swap"    // a compacted segment committed to replace its sources
)

// cleanWriteChunk is how many bytes of kept batches are buffered per write.
const cleanWriteChunk = 1 << 20

// cleanedSegment is the compacted replacement of a group of segments, written and
// fsynced under .cleaned names; seg holds its in-memory state (its files are closed).
type cleanedSegment struct {
	seg            *segment
	changed        bool // some record or batch was dropped or rewritten
	recordsRemoved int64
	suffixes       []string // of the files beside the .log: indexes and sidecars
}

func cleanedPath(dir string, base int64, suffix string) string {
	return segmentPath(dir, base, suffix) + cleanedSuffix
}

func swapPath(dir string, base int64, suffix string) string {
	return segmentPath(dir, base, suffix) + swapSuffix
}

// discard removes the .cleaned files of a segment that will not be swapped in.
func (c *cleanedSegment) discard(fsys vfs.FS) {
	for _, suffix := range append([]string{logSuffix}, c.suffixes...) {
		fsys.Remove(cleanedPath(c.seg.dir, c.seg.base, suffix))
	}
}

// cleanGroup writes the compacted form of group g (see Compact for the rules) as
// .cleaned files named after g's first segment, and fsyncs them.
func (l *Log) cleanGroup(p *compaction, g []view) (*cleanedSegment, error) {
	base, end := g[0].seg.base, g[len(g)-1].next
	f, err := l.fs.Create(cleanedPath(l.dir, base, logSuffix))
	if err != nil {
		return nil, fmt.Errorf("log: compact: %w", err)
	}
	out := &cleanedSegment{seg: newSegment(l.dir, base, f, g[0].seg.created), suffixes: l.indexSuffixes()}
	out.seg.sealed = true
	ok := false
	defer func() {
		f.Close()
		if !ok {
			out.discard(l.fs)
		}
	}()

	var pending []byte
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		_, err := f.Write(pending)
		pending = pending[:0]
		return err
	}
	horizon := p.tombstoneHorizon()
	for _, v := range g {
		err := forEachBatch(v, func(_ int64, h records.Header, batch []byte) error {
			kept, dropped, err := p.retainBatch(h, batch, horizon, end)
			if err != nil {
				return fmt.Errorf("batch %d: %w", h.BaseOffset, err)
			}
			out.recordsRemoved += int64(dropped)
			if kept == nil || len(kept) != len(batch) || dropped > 0 {
				out.changed = true
			}
			if kept == nil {
				return nil
			}
			kh, err := records.ParseHeader(kept)
			if err != nil {
				return err
			}
			// noteBatchLocked only touches out.seg, which nobody else can see yet.
			out.seg.noteBatchLocked(out.seg.size, kh, p.cfg.IndexIntervalBytes)
			pending = append(pending, kept...)
			if len(pending) >= cleanWriteChunk {
				return flush()
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("log: compact: segment %d: %w", v.seg.base, err)
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("log: compact: %w", err)
	}
	if len(g) > 1 {
		out.changed = true // merging is a change too
	}
	if !out.changed {
		ok = true
		return out, nil
	}
	if out.seg.next != end {
		// Cannot happen: the group's last batch is always kept. Swapping would leave a
		// gap between segments, which recovery treats as damage.
		return nil, fmt.Errorf("log: compact: cleaned segment %d ends at %d, not %d", base, out.seg.next, end)
	}
	if err := l.finishCleanedFiles(out.seg); err != nil {
		return nil, err
	}
	if err := l.writeCleanedSidecars(base, g); err != nil {
		return nil, err
	}
	ok = true
	return out, nil
}

// finishCleanedFiles writes the cleaned segment's indexes and fsyncs all three files.
func (l *Log) finishCleanedFiles(s *segment) error {
	s.maybeAddTimeEntryLocked() // the last time entry is the segment's maximum
	errs := []error{s.log.Sync()}
	for _, idx := range []struct {
		suffix string
		data   []byte
	}{{indexSuffix, s.idx.mem}, {timeIndexSuffix, s.tidx.mem}} {
		errs = append(errs, vfs.WriteFile(l.fs, cleanedPath(l.dir, s.base, idx.suffix), idx.data))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("log: compact: writing segment %d: %w", s.base, err)
	}
	return nil
}

// retainBatch applies the compaction rules to one batch: it returns the bytes to keep
// (nil to drop the batch) and how many records were dropped.
func (p *compaction) retainBatch(h records.Header, batch []byte, horizon, groupEnd int64) (kept []byte, dropped int32, err error) {
	if h.IsControl() {
		return batch, 0, nil // transaction markers stay as they are
	}
	out, n, _, err := records.Retain(batch, func(r records.Record) bool {
		return p.keepRecord(h, r, horizon)
	})
	if err != nil {
		return nil, 0, err
	}
	dropped = h.NumRecords - n
	if n == 0 && !p.keepBatches[h.BaseOffset] && h.LastOffset()+1 != groupEnd {
		// Dropped whole. A producer's last batch stays for its sequence; the group's
		// last batch stays so the segment ends where the next one begins.
		return nil, dropped, nil
	}
	return out, dropped, nil
}

// keepRecord is the cleaner's rule for one record of a data batch.
func (p *compaction) keepRecord(h records.Header, r records.Record, horizon int64) bool {
	if r.Key == nil {
		return true // Kafka rejects these at produce time; older ones are kept
	}
	offset := h.BaseOffset + int64(r.OffsetDelta)
	if latest, ok := p.latest[string(r.Key)]; ok && latest > offset {
		return false // superseded by a later record of the same key
	}
	if r.Value == nil && offset < p.firstDirty && h.MaxTimestamp < horizon {
		// A tombstone compacted once already (so its key's older records are gone) and
		// older than delete.retention.ms: consumers had their chance to see it.
		return false
	}
	return true
}

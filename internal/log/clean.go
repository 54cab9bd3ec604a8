package log

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// CompactOptions are what the log's owner knows and the log does not.
type CompactOptions struct {
	// UncleanableFrom bounds compaction from above: no segment holding an offset at or
	// above it is compacted. The partition passes its high watermark (Kafka also stops
	// at the last stable offset). Zero or less means no bound beyond the log's own: the
	// active segment and segments not yet durable are never compacted.
	UncleanableFrom int64
	// KeepProducer reports whether the owner still tracks a producer id. The last batch of
	// such a producer survives compaction, empty if all its records go, so that replaying
	// the log restores the producer's last sequence (Kafka does the same). nil keeps the
	// last batch of every producer.
	KeepProducer func(producerID int64) bool
}

// CompactResult describes one Compact call.
type CompactResult struct {
	// Compacted is false when nothing was cleanable or the dirty ratio was too low.
	Compacted  bool
	DirtyRatio float64 // dirty bytes / cleanable bytes when Compact looked
	// SegmentsBefore/After and BytesBefore/After cover the rewritten range.
	SegmentsBefore, SegmentsAfter int
	BytesBefore, BytesAfter       int64
	RecordsRemoved                int64
	CleanedTo                     int64 // the first dirty offset afterwards
}

// Compact runs one pass of Kafka's log cleaner if cleanup.policy includes compact and the
// dirty ratio (bytes written since the last pass over all cleanable bytes) is above
// min.cleanable.dirty.ratio. Cleanable segments are sealed, durable, below
// opts.UncleanableFrom and older than min.compaction.lag.ms; the active segment never is.
//
// The pass keeps only the latest record of each key (keys compared by bytes; records
// without a key are kept), drops tombstones that were already compacted once and are
// older than delete.retention.ms, keeps control batches untouched, and rewrites the
// segments from the first one to the end of the dirty range, merging small ones. Every
// kept record keeps its offset, so the log gets gaps; see the package documentation for
// the format rules and the crash-safe swap.
//
// Compact is safe to run concurrently with every other method. It holds writeMu only to
// swap segments, so Append, Read and Sync proceed while it reads and writes; readers
// holding Chunks of replaced segments keep reading them until Release.
func (l *Log) Compact(opts CompactOptions) (CompactResult, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	p, err := l.planCompaction(opts)
	if err != nil || p == nil {
		return CompactResult{}, err
	}
	defer p.release()
	res := CompactResult{DirtyRatio: p.dirtyRatio, CleanedTo: p.firstDirty}
	if !p.worthCleaning() {
		return res, nil
	}
	if err := p.buildOffsetMap(); err != nil {
		return res, err
	}
	if err := p.findProducerLastBatches(opts.KeepProducer); err != nil {
		return res, err
	}
	res.Compacted = true
	complete := true
	for _, g := range p.groups() {
		out, err := l.cleanGroup(p, g)
		if err != nil {
			return res, err
		}
		var groupBytes int64
		for _, s := range g {
			groupBytes += s.size
		}
		res.SegmentsBefore += len(g)
		res.BytesBefore += groupBytes
		swapped := false
		if out.changed {
			if swapped, err = l.swapIn(g, out); err != nil {
				return res, err
			}
			// Not swapped: a concurrent Truncate or deletion got there first.
			complete = complete && swapped
		} else {
			out.discard(l.fs) // a lone segment with nothing to drop: leave it be
		}
		if swapped {
			res.SegmentsAfter++
			res.BytesAfter += out.seg.size
			res.RecordsRemoved += out.recordsRemoved
		} else {
			res.SegmentsAfter += len(g)
			res.BytesAfter += groupBytes
		}
	}
	if complete {
		if err := l.advanceCleanedTo(p.cleanEnd, p.truncGen); err != nil {
			return res, err
		}
		res.CleanedTo = max(res.CleanedTo, p.cleanEnd)
	}
	p.logger.Info("compacted log", "segments_before", res.SegmentsBefore, "segments_after", res.SegmentsAfter,
		"bytes_before", res.BytesBefore, "bytes_after", res.BytesAfter,
		"records_removed", res.RecordsRemoved, "cleaned_to", res.CleanedTo, "dirty_ratio", p.dirtyRatio)
	return res, nil
}

// advanceCleanedTo records that everything below cleanEnd is compacted, unless a
// Truncate ran meanwhile (its data past the cut was never compacted).
func (l *Log) advanceCleanedTo(cleanEnd int64, truncGen uint64) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	if l.truncGen != truncGen || l.closed || cleanEnd <= l.cleanedTo {
		l.mu.Unlock()
		return nil
	}
	l.cleanedTo = cleanEnd
	l.mu.Unlock()
	return l.persistCleanedTo()
}

// compaction is the plan of one pass: which segments, from where they are dirty, and
// (once built) the latest offset of every key.
type compaction struct {
	cfg        Config // as of the plan: SetConfig may change the log's meanwhile
	logger     *slog.Logger
	now        time.Time
	truncGen   uint64
	segs       []view // every sealed segment up to cleanEnd, referenced, as of the plan
	firstDirty int64  // offsets below it were compacted by an earlier pass
	cleanEnd   int64  // the end of the cleanable range
	dirtyBytes int64
	cleanBytes int64
	dirtyRatio float64

	latest      map[string]int64 // key → offset of its last record in the dirty range
	keepBatches map[int64]bool   // base offsets of producers' last batches
}

func (p *compaction) release() {
	for _, v := range p.segs {
		v.seg.release()
	}
}

func (p *compaction) worthCleaning() bool {
	return p.dirtyBytes > 0 && p.dirtyRatio > p.cfg.MinCleanableDirtyRatio
}

// tombstoneHorizon is the newest batch timestamp whose tombstones may be dropped.
func (p *compaction) tombstoneHorizon() int64 {
	return p.now.UnixMilli() - p.cfg.DeleteRetentionMs
}

// planCompaction snapshots the cleanable segments and measures the dirty ratio. It
// returns nil when the log does not compact.
func (l *Log) planCompaction(opts CompactOptions) (*compaction, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, err
		}
		return nil, fmt.Errorf("log: compact: %w", err)
	}
	if !l.cfg.CleanupPolicyCompact {
		return nil, nil
	}
	p := &compaction{cfg: l.cfg, logger: l.logger, now: l.now()}
	limit := opts.UncleanableFrom
	if limit <= 0 {
		limit = math.MaxInt64
	}
	lagHorizon := p.now.UnixMilli() - p.cfg.MinCompactionLagMs

	l.mu.RLock()
	defer l.mu.RUnlock()
	p.truncGen = l.truncGen
	p.firstDirty = max(l.cleanedTo, l.start)
	p.cleanEnd = l.segs[0].base
	for _, s := range l.segs[:len(l.segs)-1] {
		if !s.sealed || !s.synced || s.next > limit || s.maxTs > lagHorizon {
			break // Kafka's first uncleanable offset: nothing after it is cleaned either
		}
		s.acquire()
		p.segs = append(p.segs, s.viewLocked())
		p.cleanEnd = s.next
		if s.next <= p.firstDirty {
			p.cleanBytes += s.size
		} else {
			p.dirtyBytes += s.size
		}
	}
	if total := p.cleanBytes + p.dirtyBytes; total > 0 {
		p.dirtyRatio = float64(p.dirtyBytes) / float64(total)
	}
	return p, nil
}

// groups splits the segments into runs that fit one segment: at most segment.bytes
// (by their current size, so a run never outgrows it), an index of at most
// segment.index.bytes, and offsets that fit the index's 32-bit relative form.
func (p *compaction) groups() [][]view {
	var out [][]view
	maxOffsetEntries := p.cfg.SegmentIndexBytes / offsetEntrySize
	maxTimeEntries := p.cfg.SegmentIndexBytes / timeEntrySize
	for i := 0; i < len(p.segs); {
		g := p.segs[i : i+1]
		size, idxN, tidxN := g[0].size, int64(g[0].idx.n), int64(g[0].tidx.n)
		base := g[0].seg.base
		for j := i + 1; j < len(p.segs); j++ {
			s := p.segs[j]
			if size+s.size > p.cfg.SegmentBytes ||
				idxN+int64(s.idx.n)+1 > maxOffsetEntries || tidxN+int64(s.tidx.n)+1 > maxTimeEntries ||
				s.next-1-base > math.MaxInt32 {
				break
			}
			size, idxN, tidxN = size+s.size, idxN+int64(s.idx.n)+1, tidxN+int64(s.tidx.n)+1
			g = p.segs[i : j+1]
		}
		out = append(out, g)
		i += len(g)
	}
	return out
}

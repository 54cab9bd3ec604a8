package log

import (
	"fmt"
	"strings"

	"github.com/waybill/waybill/internal/vfs"
)

// Sidecar is a per-segment file that the log's user keeps beside each segment,
// named "%020d"+Suffix after the segment's base offset (package partition keeps its
// aborted-transaction index this way, as Kafka's .txnindex). The log owns the file's
// lifecycle, never its content:
//
//   - every segment the log creates (roll, truncation to an empty log, the first
//     segment of a new log) gets an empty sidecar, so an empty file means "nothing yet"
//     and a missing one means it was lost;
//   - a sidecar is removed with its segment (retention, DeleteBefore, Truncate, damage
//     found at Open), and a sidecar without a segment is removed at Open; the sidecar
//     of a segment that Truncate cuts (rather than removes) is the user's to cut;
//   - compaction, which replaces consecutive segments by one, writes the replacement's
//     sidecar as Merge of the sources' sidecars and moves it through the same
//     .cleaned/.swap protocol as the segment's indexes. If a source's sidecar cannot
//     be read or merged, the replacement gets none: the user finds it missing at the
//     next Open and rebuilds it from the segment.
//
// The user writes the file of the active segment; sealed segments' sidecars must only
// change by Merge. The log never fsyncs a sidecar's content, only the directory
// entries it creates and removes (as for its own files).
type Sidecar struct {
	Suffix string
	// Merge returns the content of the sidecar of a segment replacing consecutive
	// segments whose sidecars held parts, in offset order. Compaction keeps every
	// control batch at its offset.
	Merge func(parts [][]byte) ([]byte, error)
}

// Option configures Open.
type Option func(*Log)

// WithSidecar makes the log manage per-segment sidecar files (see Sidecar).
func WithSidecar(s Sidecar) Option {
	return func(l *Log) { l.sidecars = append(l.sidecars, s) }
}

// SegmentPath is the path of the file with suffix of the segment based at base in dir
// ("%020d"+suffix).
func SegmentPath(dir string, base int64, suffix string) string {
	return segmentPath(dir, base, suffix)
}

// SegmentBases returns the base offsets of the segments, ascending; the last one is
// the active segment. Each segment ends where the next begins, the last at EndOffset.
func (l *Log) SegmentBases() []int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	bases := make([]int64, len(l.segs))
	for i, s := range l.segs {
		bases[i] = s.base
	}
	return bases
}

// sidecarSuffixes returns the sidecars' suffixes.
func (l *Log) sidecarSuffixes() []string {
	suffixes := make([]string, len(l.sidecars))
	for i, s := range l.sidecars {
		suffixes[i] = s.Suffix
	}
	return suffixes
}

// indexSuffixes returns every suffix of a segment's files other than .log.
func (l *Log) indexSuffixes() []string {
	return append([]string{indexSuffix, timeIndexSuffix}, l.sidecarSuffixes()...)
}

// createSidecars creates the empty sidecars of a new segment based at base (replacing
// files of those names). Their directory entries become durable with the segment's.
func (l *Log) createSidecars(base int64) error {
	for _, sc := range l.sidecars {
		f, err := l.fs.Create(segmentPath(l.dir, base, sc.Suffix))
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// writeCleanedSidecars writes the sidecars of a compacted segment based at base that
// replaces the segments of g, as .cleaned files, fsynced. A sidecar that cannot be
// merged is left out (see Sidecar).
func (l *Log) writeCleanedSidecars(base int64, g []view) error {
	for _, sc := range l.sidecars {
		parts := make([][]byte, 0, len(g))
		var err error
		for _, v := range g {
			var b []byte
			if b, err = vfs.ReadFile(l.fs, v.seg.path(sc.Suffix)); err != nil {
				break
			}
			parts = append(parts, b)
		}
		var merged []byte
		if err == nil {
			merged, err = sc.Merge(parts)
		}
		if err != nil {
			l.logger.Warn("compact: leaving out a sidecar; its user rebuilds it", "segment", base,
				"suffix", sc.Suffix, "err", err)
			continue
		}
		if err := vfs.WriteFile(l.fs, cleanedPath(l.dir, base, sc.Suffix), merged); err != nil {
			return fmt.Errorf("log: compact: writing segment %d: %w", base, err)
		}
	}
	return nil
}

// cutIndexSuffix returns the name without its index or sidecar suffix, and whether it
// had one.
func cutIndexSuffix(name string, suffixes []string) (string, bool) {
	for _, suffix := range suffixes {
		if stem, ok := strings.CutSuffix(name, suffix); ok {
			return stem, true
		}
	}
	return name, false
}

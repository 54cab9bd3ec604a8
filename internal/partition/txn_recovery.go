package partition

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sort"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/producers"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// recoverState brings the producer state and the aborted-transaction index up to the
// log's end, at Open and after Truncate, from the per-segment files (see
// aborted_index.go). Each segment's file is read and checked; entries past the log end
// are dropped (their markers were lost or cut off). A damaged or missing file is
// rebuilt by scanning the log from its start up to the end of that segment (or the
// producer snapshot, whichever comes first). The newest producer snapshot at or below
// the log end is then loaded and the log replayed from it; each abort marker found on
// the way is restored unless the index already has it. Every file whose entries changed
// is rewritten whole, and the partition-level file of older versions deleted.
func recoverState(fsys vfs.FS, dir string, l *wlog.Log, idx *abortedIndex, logger *slog.Logger) (*producers.State, error) {
	// Entries written since the last sync are read back below: make them durable first,
	// since the handles that wrote them are replaced.
	if err := idx.sync(); err != nil {
		return nil, err
	}
	end, start := l.EndOffset(), l.StartOffset()
	bases := l.SegmentBases()
	segEnd := func(i int) int64 {
		if i+1 < len(bases) {
			return bases[i+1]
		}
		return end
	}
	segOf := func(offset int64) int {
		return sort.Search(len(bases), func(i int) bool { return bases[i] > offset }) - 1
	}
	_, statErr := fsys.Stat(legacyIndexPath(dir))
	legacy := statErr == nil
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return nil, statErr
	}
	if legacy {
		logger.Info("migrating the partition-level aborted-transaction index to per-segment files", "dir", dir)
	}

	var entries []AbortedTxn
	rewrite := map[int]bool{} // segments whose file is rewritten from entries
	damaged := map[int]bool{} // segments whose aborts are found again in the log
	rebuildTo := int64(-1)    // end of the last damaged segment
	for i, base := range bases {
		b, missing, err := readTxnIndexFile(fsys, idx.path(base))
		if err != nil {
			return nil, err
		}
		var found []AbortedTxn
		var damage error
		switch {
		case legacy && segEnd(i) > base:
			damage = errLegacyIndex
		case missing && segEnd(i) > base:
			damage = ErrTxnIndexMissing
		case missing:
			rewrite[i] = true // an empty segment: nothing to find
		default:
			found, damage = decodeAbortedIndex(b)
			if errors.Is(damage, ErrTxnIndexTorn) {
				logger.Warn("cutting a torn aborted-transaction index", "dir", dir, "segment", base, "damage", damage)
				damage, rewrite[i] = nil, true
			}
		}
		for j, e := range found {
			if damage != nil {
				break
			}
			if e.LastOffset >= end { // the marker is gone; so are the later ones
				found, rewrite[i] = found[:j], true
				break
			}
			if e.LastOffset < base || e.LastOffset >= segEnd(i) {
				damage = fmt.Errorf("%w: entry %+v outside segment %d-%d", ErrTxnIndexMalformed, e, base, segEnd(i))
			}
		}
		if damage != nil {
			if !errors.Is(damage, errLegacyIndex) {
				logger.Warn("rebuilding aborted-transaction index from the log", "dir", dir, "segment", base, "damage", damage)
			}
			found, rewrite[i], damaged[i], rebuildTo = nil, true, true, segEnd(i)
		}
		entries = append(entries, found...)
	}
	have := func(e AbortedTxn) bool {
		i := sort.Search(len(entries), func(i int) bool { return entries[i].LastOffset >= e.LastOffset })
		return i < len(entries) && entries[i].LastOffset == e.LastOffset
	}
	insert := func(e AbortedTxn) {
		i := sort.Search(len(entries), func(i int) bool { return entries[i].LastOffset >= e.LastOffset })
		entries = slices.Insert(entries, i, e)
		rewrite[segOf(e.LastOffset)] = true
	}

	if err := producers.DeleteSnapshotsAbove(fsys, dir, end); err != nil {
		return nil, err
	}
	ps, from, err := producers.LoadSnapshot(fsys, dir)
	if err != nil {
		return nil, err
	}
	from = max(from, start)
	// A throwaway producer state: only the transactions' first offsets matter. A
	// transaction begun below the log start gets the first offset of its first
	// surviving batch, which hides the same readable records. The damaged segments'
	// aborts at or past from come from the replay below, with the real state.
	err = replayTxns(l, start, min(from, rebuildTo), producers.NewState(), func(e AbortedTxn) error {
		if damaged[segOf(e.LastOffset)] && !have(e) {
			insert(e)
		}
		return nil
	}, logger)
	if err != nil {
		return nil, err
	}
	// The files only ever lose a suffix of their entries (unsynced ones), so the kept
	// ones win: a replay that starts after a transaction began can only guess its
	// first offset.
	err = replayTxns(l, from, end, ps, func(e AbortedTxn) error {
		if !have(e) {
			insert(e)
		}
		return nil
	}, logger)
	if err != nil {
		return nil, err
	}

	for i, base := range bases {
		if !rewrite[i] {
			continue
		}
		lo := sort.Search(len(entries), func(j int) bool { return entries[j].LastOffset >= base })
		hi := sort.Search(len(entries), func(j int) bool { return entries[j].LastOffset >= segEnd(i) })
		if err := idx.writeTxnIndexFile(base, entries[lo:hi]); err != nil {
			return nil, err
		}
	}
	if len(rewrite) > 0 {
		if err := fsys.SyncDir(dir); err != nil {
			return nil, err
		}
	}
	if legacy { // only once every segment's file is durable
		if err := fsys.Remove(legacyIndexPath(dir)); err != nil {
			return nil, err
		}
		if err := fsys.SyncDir(dir); err != nil {
			return nil, err
		}
	}

	last := bases[len(bases)-1]
	active, err := fsys.OpenAppend(idx.path(last))
	if err != nil {
		return nil, err
	}
	size, err := active.Size()
	if err != nil {
		active.Close()
		return nil, err
	}
	lo := sort.Search(len(entries), func(j int) bool { return entries[j].LastOffset >= start })
	idx.install(slices.Clip(entries[lo:]), active, last, size)
	return ps, nil
}

// errLegacyIndex is why segments are rebuilt when migrating from the partition-level
// file.
var errLegacyIndex = errors.New("partition: migrating from the partition-level aborted-transaction index")

// errScanDone stops a log scan early.
var errScanDone = errors.New("scan done")

// replayTxns replays the batches from the one holding from up to (excluding) those at or
// past to into ps, and reports each abort marker that ended an open transaction.
func replayTxns(l *wlog.Log, from, to int64, ps *producers.State, onAbort func(AbortedTxn) error, logger *slog.Logger) error {
	if from >= to {
		return nil
	}
	err := l.Scan(from, func(h records.Header, batch []byte) error {
		if h.BaseOffset >= to {
			return errScanDone
		}
		first, commit := replayBatch(ps, h, batch, logger)
		if !h.IsControl() || commit || first < 0 {
			return nil
		}
		return onAbort(AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.LastOffset()})
	})
	if errors.Is(err, errScanDone) {
		return nil
	}
	return err
}

// replayBatch brings ps past one batch read from a log, recovery's or a follower's copy of
// its leader's. For a control batch it returns the first offset of the transaction the
// batch ended (-1 if none was open) and whether it committed; a control batch that is
// not a marker (Waybill writes none) ends the transaction as its attributes say, and
// counts as a commit: no abort is recorded for it.
func replayBatch(ps *producers.State, h records.Header, batch []byte, logger *slog.Logger) (first int64, commit bool) {
	if !h.HasProducer() {
		return -1, false
	}
	if !h.IsControl() {
		ps.Replay(h, h.MaxTimestamp)
		return -1, false
	}
	commit, coordinatorEpoch, err := parseMarker(batch)
	if err != nil {
		logger.Warn("control batch that is not a transaction marker", "offset", h.BaseOffset, "err", err)
		first = ps.TxnFirstOffset(h.ProducerID)
		ps.Replay(h, h.MaxTimestamp)
		return first, true
	}
	return ps.ApplyMarker(h, coordinatorEpoch, h.MaxTimestamp), commit
}

// parseMarker decodes a transaction marker batch: commit or abort, and the epoch of the
// coordinator that wrote it (the record value: version int16, coordinator epoch int32).
func parseMarker(batch []byte) (commit bool, coordinatorEpoch int32, err error) {
	if commit, err = records.ParseControlType(batch); err != nil {
		return false, 0, err
	}
	err = records.Iterate(batch, func(r records.Record) error {
		if len(r.Value) < 6 {
			return fmt.Errorf("%w: marker value of %d bytes", records.ErrNotMarker, len(r.Value))
		}
		coordinatorEpoch = int32(binary.BigEndian.Uint32(r.Value[2:]))
		return nil
	})
	return commit, coordinatorEpoch, err
}

package partition

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/producers"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// recoverState brings the producer state and the aborted-transaction index up to the
// log's end, at Open and after Truncate. The index loses its entries past the log end
// (their markers were lost or cut off). The newest producer snapshot at or below the log
// end is loaded and the log replayed from it; each abort marker found on the way is
// restored into the index unless the index already has it. With rebuildIndex (the index
// was damaged or missing), the aborts below the replay start are first found by scanning
// the log from its start.
func recoverState(fs vfs.FS, dir string, l *wlog.Log, idx *abortedIndex, rebuildIndex bool, logger *slog.Logger) (*producers.State, error) {
	end := l.EndOffset()
	if err := idx.cutFrom(end); err != nil {
		return nil, err
	}
	if err := producers.DeleteSnapshotsAbove(fs, dir, end); err != nil {
		return nil, err
	}
	ps, from, err := producers.LoadSnapshot(fs, dir)
	if err != nil {
		return nil, err
	}
	start := l.StartOffset()
	from = max(from, start)
	if rebuildIndex {
		if err := idx.reset(); err != nil {
			return nil, err
		}
		// A throwaway producer state: only the transactions' first offsets matter. A
		// transaction begun below the log start gets the first offset of its first
		// surviving batch, which hides the same readable records.
		if err := replayTxns(l, start, from, producers.NewState(), idx.restore, logger); err != nil {
			return nil, err
		}
	}
	if err := replayTxns(l, from, end, ps, idx.restore, logger); err != nil {
		return nil, err
	}
	if err := idx.trimBelow(start); err != nil {
		return nil, err
	}
	return ps, idx.sync()
}

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
		if !h.HasProducer() {
			return nil
		}
		if !h.IsControl() {
			ps.Replay(h, h.MaxTimestamp)
			return nil
		}
		commit, coordinatorEpoch, err := parseMarker(batch)
		if err != nil {
			// Not a transaction marker: Waybill never writes one, so end the
			// transaction as the batch's attributes say and move on.
			logger.Warn("control batch that is not a transaction marker", "offset", h.BaseOffset, "err", err)
			ps.Replay(h, h.MaxTimestamp)
			return nil
		}
		first := ps.ApplyMarker(h, coordinatorEpoch, h.MaxTimestamp)
		if commit || first < 0 {
			return nil
		}
		return onAbort(AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.LastOffset()})
	})
	if errors.Is(err, errScanDone) {
		return nil
	}
	return err
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

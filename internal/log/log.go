package log

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waybill/waybill/internal/vfs"
)

// Log is the segmented log of one partition replica. See the package documentation for
// the format and which methods may run concurrently.
//
// Lock order: writeMu, then metaMu, then mu. Methods named ...WriteLocked need writeMu;
// ...Locked need mu (for writing if they modify). Sync takes metaMu and mu, never writeMu,
// so that Append never waits for an fsync.
type Log struct {
	fs     vfs.FS
	dir    string
	now    func() time.Time
	logger *slog.Logger

	// writeMu serialises every mutation of the log: Append, AppendAssigned, Truncate,
	// DeleteBefore, ApplyRetention, SetConfig, Close.
	writeMu sync.Mutex
	cfg     Config // writeMu

	sidecars []Sidecar // set by Open; see Sidecar

	// cleanMu serialises Compact runs. Compact holds it throughout, and writeMu only
	// while it swaps segments, so appends proceed while it reads and writes.
	cleanMu sync.Mutex

	// metaMu serialises checkpoint writes, so a newer checkpoint never loses the race
	// to an older one.
	metaMu           sync.Mutex
	persisted        checkpoint // metaMu: last checkpoint written
	cleanedPersisted int64      // metaMu: last cleaner checkpoint written, -1 if none

	// mu guards the segment list and the fields below, and the "mu" fields of segments.
	mu            sync.RWMutex
	segs          []*segment // ascending base; the last one is active
	start         int64      // log start offset
	recoveryPoint int64      // base of the first segment not known durable
	cleanedTo     int64      // offsets below this were compacted (the first dirty offset)
	durable       int64      // offsets below this are durable
	truncGen      uint64     // bumped by Truncate: a Sync begun before it learns nothing
	dirGen        uint64     // bumped by each create/remove in dir
	dirSynced     uint64     // dirGen at the last SyncDir
	closed        bool

	failure atomic.Pointer[error] // set once; see ErrFailed
}

// AppendResult describes where Append put a batch.
type AppendResult struct {
	BaseOffset int64 // the offset stamped into the batch
	LastOffset int64
	// SegmentBase and Position locate the batch on disk (segment base offset, byte
	// position in that segment).
	SegmentBase int64
	Position    int64
}

// activeLocked returns the active segment. mu (or writeMu) is held.
func (l *Log) activeLocked() *segment { return l.segs[len(l.segs)-1] }

// StartOffset is the log start offset: the first offset a Read may ask for.
func (l *Log) StartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.start
}

// EndOffset is the log end offset: the offset the next appended batch gets.
func (l *Log) EndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return l.durable
	}
	return l.activeLocked().next
}

// DurableEnd is the end of the durable prefix: offsets below it survive power loss.
func (l *Log) DurableEnd() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.durable
}

// Size is the total size of the segments in bytes.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// SetConfig replaces the configuration; it applies to the next Append and
// ApplyRetention.
func (l *Log) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.cfg = cfg
	l.logger = cfg.logger().With("dir", l.dir)
	return nil
}

// fail records the error that makes the log unusable for writing and returns it wrapped
// in ErrFailed. The first failure wins.
func (l *Log) fail(err error) error {
	wrapped := fmt.Errorf("%w: %w", ErrFailed, err)
	if l.failure.CompareAndSwap(nil, &wrapped) {
		l.logger.Error("log failed; reopen to recover", "err", err)
	}
	return *l.failure.Load()
}

// writable returns why the log cannot take writes, or nil.
func (l *Log) writable() error {
	if f := l.failure.Load(); f != nil {
		return *f
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	return nil
}

// Close makes everything durable, writes the active segment's indexes and the
// clean-shutdown marker, so that the next Open skips the scan. Chunks handed out keep
// their files open until released. A failed log is closed without the marker.
func (l *Log) Close() error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.writable(); errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	var err error
	if l.failure.Load() == nil {
		err = l.closeCleanlyWriteLocked()
	}
	l.mu.Lock()
	l.closed = true
	segs := l.segs
	l.segs = nil
	l.mu.Unlock()
	for _, s := range segs {
		s.release()
	}
	return err
}

// closeCleanlyWriteLocked syncs everything and writes the marker.
func (l *Log) closeCleanlyWriteLocked() error {
	if _, err := l.Sync(); err != nil {
		return err
	}
	active := l.activeLocked()
	l.mu.Lock()
	active.maybeAddTimeEntryLocked() // the last time entry is the segment's maximum
	l.mu.Unlock()
	idx, tidx, err := active.writeIndexFiles(l.fs)
	if err != nil {
		return err
	}
	err = errors.Join(idx.Sync(), tidx.Sync())
	err = errors.Join(err, idx.Close(), tidx.Close())
	if err != nil {
		return err
	}
	marker, err := l.fs.Create(dirPath(l.dir, cleanMarkerName))
	if err != nil {
		return err
	}
	if err := errors.Join(marker.Sync(), marker.Close()); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

// Delete closes the log and removes its directory.
func (l *Log) Delete() error {
	if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
		l.logger.Warn("closing log before delete", "err", err)
	}
	return l.fs.RemoveAll(l.dir)
}

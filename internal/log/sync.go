package log

import (
	"github.com/waybill/waybill/internal/vfs"
)

// syncTarget is a segment Sync must fsync, with the files as they were when Sync began.
type syncTarget struct {
	seg       *segment
	sealed    bool
	idx, tidx vfs.File
}

// Sync makes durable everything appended before the call (including rolled segments and
// the names of new files) and returns the end offset now durable. It holds no lock while
// fsync runs, so Append and Read proceed meanwhile; concurrent Syncs are allowed (the
// caller's group commit decides how many to run).
//
// A failed fsync fails the log (ErrFailed): the kernel may have dropped the pages it could
// not write, so a later successful fsync would prove nothing.
func (l *Log) Sync() (durableEnd int64, err error) {
	if f := l.failure.Load(); f != nil {
		return l.DurableEnd(), *f
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return l.DurableEnd(), ErrClosed
	}
	end := l.activeLocked().next
	gen, dirGen := l.truncGen, l.dirGen
	needDir := dirGen != l.dirSynced
	var targets []syncTarget
	for _, s := range l.segs {
		if s.sealed && !s.synced {
			s.acquire()
			targets = append(targets, syncTarget{seg: s, sealed: true, idx: s.idx.file, tidx: s.tidx.file})
		}
	}
	if end > l.durable {
		active := l.activeLocked()
		active.acquire()
		targets = append(targets, syncTarget{seg: active})
	}
	if len(targets) == 0 && !needDir {
		d := l.durable
		l.mu.RUnlock()
		return d, nil
	}
	l.mu.RUnlock()
	defer func() {
		for _, t := range targets {
			t.seg.release()
		}
	}()

	// Segment files first, then the directory: a name is useless without its data,
	// and the durable end is claimed only once both are on disk.
	for _, t := range targets {
		if err := t.seg.syncFiles(t.sealed, t.idx, t.tidx); err != nil {
			return l.DurableEnd(), l.fail(err)
		}
	}
	if needDir {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return l.DurableEnd(), l.fail(err)
		}
	}

	l.mu.Lock()
	if dirGen > l.dirSynced {
		l.dirSynced = dirGen
	}
	raised := false
	if gen == l.truncGen { // a Truncate since we began already synced what remains
		for _, t := range targets {
			if t.sealed {
				t.seg.synced = true
			}
		}
		l.durable = max(l.durable, end)
		if rp := l.recoveryPointLocked(); rp > l.recoveryPoint {
			l.recoveryPoint, raised = rp, true
		}
	}
	d := l.durable
	l.mu.Unlock()

	if raised {
		// The data is durable whatever happens here; a stale recovery point only means a
		// longer scan after a crash, so the error is logged, not returned.
		if err := l.persistCheckpoint(); err != nil {
			l.logger.Warn("writing checkpoint", "err", err)
		}
	}
	return d, nil
}

// recoveryPointLocked is the base of the first segment not sealed and synced.
func (l *Log) recoveryPointLocked() int64 {
	for _, s := range l.segs {
		if !s.synced {
			return s.base
		}
	}
	return l.activeLocked().base
}

// persistCheckpoint writes the current log start and recovery point durably, unless
// they are already on disk.
func (l *Log) persistCheckpoint() error {
	l.metaMu.Lock()
	defer l.metaMu.Unlock()
	l.mu.RLock()
	c := checkpoint{logStart: l.start, recoveryPoint: l.recoveryPoint}
	l.mu.RUnlock()
	if c == l.persisted {
		return nil
	}
	if err := writeFileAtomic(l.fs, l.dir, checkpointName, c.encode()); err != nil {
		return err
	}
	l.persisted = c
	return nil
}

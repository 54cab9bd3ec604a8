package partition

import "fmt"

// Truncate removes every batch at or above offset: the replication seam, for a follower
// cutting the tail where its log diverged from the leader's (KIP-101). The producer
// state, the open transactions and the aborted-transaction index are rebuilt from what
// remains, as Open does (from the newest producer snapshot at or below the new end), so
// a transaction whose marker was cut off is open again. The high watermark does not
// stay above the new end.
func (p *Partition) Truncate(offset int64) error {
	return p.cut(func() error { return p.log.Truncate(offset) })
}

// Reset empties the replica and restarts its log at offset: a follower whose leader's
// log starts past this one's end (retention or DeleteRecords on the leader) can copy
// nothing before it.
func (p *Partition) Reset(offset int64) error {
	return p.cut(func() error { return p.log.Reset(offset) })
}

// cut runs a truncation of the log and rebuilds the state that depends on it.
func (p *Partition) cut(truncate func() error) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	if err := p.failed(); err != nil {
		return err
	}
	// No group commit in between: a sync that began before the cut must not publish
	// an end offset from before it.
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	if err := truncate(); err != nil {
		p.fail(err)
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	err := p.epochs.truncateFrom(p.log.EndOffset())
	if err == nil {
		err = p.epochs.truncateBefore(p.log.StartOffset())
	}
	if err != nil {
		p.fail(err)
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	ps, err := recoverState(p.cfg.FS, p.cfg.Dir, p.log, p.aborted, p.cfg.Logger)
	if err != nil {
		p.fail(err)
		return fmt.Errorf("%w: rebuilding producer state after truncation: %v", ErrStorage, err)
	}
	p.producers = ps
	end := p.log.EndOffset()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	// After a Reset the log starts past the old end; nothing below the start is missing.
	start := p.log.StartOffset()
	p.hw, p.durable, p.leaderHW = max(min(p.hw, end), start), max(min(p.durable, end), start), max(min(p.leaderHW, end), start)
	p.resetTxnsLocked(ps.OpenTxns())
	p.updateLSOLocked()
	p.notifyLocked()
	return nil
}

// DeleteBefore advances the log start offset to offset (DeleteRecords) and forgets the
// aborted transactions wholly below it.
// The log deletes the index files of the segments it deletes.
func (p *Partition) DeleteBefore(offset int64) error {
	if err := p.log.DeleteBefore(offset); err != nil {
		return err
	}
	p.trimTxnsBelowLogStart()
	return nil
}

// trimTxnsBelowLogStart follows the log start after retention or DeleteRecords: index
// entries wholly below it can never be asked for again (their files went with their
// segments), the LSO never stays below it, and the leader-epoch cache starts there.
func (p *Partition) trimTxnsBelowLogStart() {
	if err := p.epochs.truncateBefore(p.log.StartOffset()); err != nil {
		p.cfg.Logger.Warn("trimming the leader-epoch cache", "topic", p.cfg.Topic, "partition", p.cfg.Index, "err", err)
	}
	p.aborted.trimBelow(p.log.StartOffset())
	p.refreshLSO()
}

package partition

// Group commit: appends only wake the sync loop; one fsync then covers every batch
// appended before it started, however many producers wrote them. Appends go on while the
// fsync runs, and are covered by the next one. The aborted-transaction index files are
// synced in the same round, after the log; an entry written while a round was running
// is covered by the next one (Open restores it from the log if a crash comes first; see
// aborted_index.go).

func (p *Partition) wakeSync() {
	select {
	case p.syncWake <- struct{}{}:
	default: // a sync is already due; it will cover this append
	}
}

func (p *Partition) syncLoop() {
	defer close(p.syncDone)
	for range p.syncWake {
		p.syncRound()
	}
}

func (p *Partition) syncRound() {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	end, err := p.log.Sync()
	if err == nil {
		err = p.aborted.sync()
	}
	if err != nil {
		p.fail(err)
		return
	}
	p.progressed(end)
}

package partition

// Group commit: appends only wake the sync loop; one fsync then covers every batch
// appended before it started, however many producers wrote them. Appends go on while the
// fsync runs, and are covered by the next one. The aborted-transaction index is synced in
// the same round, after the log, so an abort is durable no later than its marker is
// reported durable.

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
	p.advance(end, end)
}

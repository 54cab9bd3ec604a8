package partition

// Group commit: appends only wake the sync loop; one fsync then covers every batch
// appended before it started, however many producers wrote them. Appends go on while the
// fsync runs, and are covered by the next one.

func (p *Partition) wakeSync() {
	select {
	case p.syncWake <- struct{}{}:
	default: // a sync is already due; it will cover this append
	}
}

func (p *Partition) syncLoop() {
	defer close(p.syncDone)
	for range p.syncWake {
		end, err := p.log.Sync()
		if err != nil {
			p.fail(err)
			continue
		}
		p.advance(end, end)
	}
}

package partition

import wlog "github.com/waybill/waybill/internal/log"

// Close stops the sync loop, snapshots the producer state and closes the log cleanly, so
// the next start skips recovery. The aborted-transaction index is synced before the
// snapshot: Open trusts the index below the snapshot's offset (see aborted_index.go).
func (p *Partition) Close() error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.stateMu.Lock()
	if p.closed {
		p.stateMu.Unlock()
		return nil
	}
	p.closed = true
	p.stateMu.Unlock()
	close(p.syncWake)
	<-p.syncDone
	_, err := p.log.Sync()
	if err == nil {
		err = p.aborted.sync()
	}
	if err != nil {
		p.aborted.close()
		p.log.Close()
		return err
	}
	p.SaveHighWatermark()
	if err := p.producers.WriteSnapshot(p.cfg.FS, p.cfg.Dir, p.log.EndOffset()); err != nil {
		p.cfg.Logger.Warn("writing producer snapshot", "topic", p.cfg.Topic, "partition", p.cfg.Index, "err", err)
	}
	if err := p.aborted.close(); err != nil {
		p.cfg.Logger.Warn("closing aborted-transaction index", "topic", p.cfg.Topic, "partition", p.cfg.Index, "err", err)
	}
	return p.log.Close()
}

// Delete closes the replica and removes its data (topic deletion).
func (p *Partition) Delete() error {
	p.appendMu.Lock()
	p.stateMu.Lock()
	alreadyClosed := p.closed
	p.closed = true
	// A fetch parked on this replica must answer now that its topic is gone, as Kafka
	// completes a delayed fetch whose partition was deleted, instead of holding the
	// client until its max wait.
	p.notifyLocked()
	p.stateMu.Unlock()
	if !alreadyClosed {
		close(p.syncWake)
		<-p.syncDone
	}
	p.appendMu.Unlock()
	if !alreadyClosed {
		p.aborted.close()
	}
	return p.log.Delete()
}

// Maintain runs the periodic work: producer expiry (producers with an open transaction
// stay), retention (the log deletes the segments' aborted-transaction index files; the
// in-memory entries below the new log start are dropped here) and compaction (the log
// merges the replaced segments' files).
func (p *Partition) Maintain(producerExpirationMs int64) error {
	p.appendMu.Lock()
	p.producers.Expire(p.cfg.Now().UnixMilli(), producerExpirationMs)
	for id := range p.markers { // guards of expired producers: a reset count only refuses
		if _, ok := p.producers.Producer(id); !ok {
			delete(p.markers, id)
		}
	}
	p.appendMu.Unlock()
	p.SaveHighWatermark()
	if _, err := p.log.ApplyRetention(); err != nil {
		return err
	}
	// Also catches DeleteRecords done on the log directly.
	p.trimTxnsBelowLogStart()
	// Compaction stops at the last stable offset, as Kafka's cleaner stops at the first
	// unstable offset: an open transaction's batches must stay as written until its
	// marker, so that a replay finds where it began. It keeps the last batch of every
	// producer still tracked, so that replaying the log restores its sequence.
	_, err := p.log.Compact(wlog.CompactOptions{
		UncleanableFrom: p.LastStableOffset(),
		KeepProducer: func(id int64) bool {
			p.appendMu.Lock()
			defer p.appendMu.Unlock()
			_, ok := p.producers.Producer(id)
			return ok
		},
	})
	return err
}

// SetConfig applies changed topic configs to the open replica.
func (p *Partition) SetConfig(cfg Config) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.cfg.Log = cfg.Log
	p.cfg.LogAppendTime = cfg.LogAppendTime
	p.log.SetConfig(cfg.Log)
}

// LeaderEpoch is the epoch of this replica's current leadership.
func (p *Partition) LeaderEpoch() int32 { return p.leaderEpoch.Load() }

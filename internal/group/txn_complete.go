package group

// CompleteTxn ends producerID's transaction for the groups of __consumer_offsets
// partition: with commit, the producer's pending offsets replace the
// committed ones (unless a plain OffsetCommit wrote a partition's offset
// after them); otherwise they are dropped.
//
// The broker calls it once the transaction's COMMIT or ABORT marker for
// producerID is durable on partition. Calling it for a partition this
// coordinator does not own does nothing (the owner's Load replays the
// marker); during the partition's Load it is remembered and applied when the
// replay ends. Calling it again for the same marker is harmless.
func (c *Coordinator) CompleteTxn(partition int32, producerID int64, commit bool) {
	c.mu.Lock()
	ps := c.partitions[partition]
	switch {
	case ps == nil:
		c.mu.Unlock()
		return
	case ps.loading:
		ps.completedWhileLoading = append(ps.completedWhileLoading, txnCompletion{producerID, commit})
		c.mu.Unlock()
		return
	}
	var groups []*group
	for id := range ps.txnGroups.take(producerID) {
		if g := c.groups[id]; g != nil {
			groups = append(groups, g)
		}
	}
	c.mu.Unlock()

	// A TxnOffsetCommit of this producer may still hold a group's mutex
	// while its append finishes: it registered the group before appending
	// (see watchTxn), so waiting for the mutex here sees its offsets.
	for _, g := range groups {
		g.mu.Lock()
		if !g.is(stateDead) {
			g.offsets.complete(producerID, commit)
		}
		g.mu.Unlock()
	}
}

// txnCompletion is a CompleteTxn call kept while the partition loads.
type txnCompletion struct {
	producerID int64
	commit     bool
}

// watchTxn records that producerID is about to append transactional offsets
// for g. It runs before the append, under g.mu: CompleteTxn for a marker
// written after the append must find g. Lock order: g.mu, then c.mu.
func (c *Coordinator) watchTxn(g *group, producerID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps := c.partitions[g.partition]; ps != nil && !ps.loading {
		ps.txnGroups.add(producerID, g.id)
	}
}

// producerGroups maps a producer id to the ids of the groups it has
// transactional offsets in.
type producerGroups map[int64]map[string]struct{}

func (pg producerGroups) add(producerID int64, groupID string) {
	ids := pg[producerID]
	if ids == nil {
		ids = make(map[string]struct{})
		pg[producerID] = ids
	}
	ids[groupID] = struct{}{}
}

// take removes and returns producerID's groups: a marker ends the
// producer's transaction, and its next one registers afresh.
func (pg producerGroups) take(producerID int64) map[string]struct{} {
	ids := pg[producerID]
	delete(pg, producerID)
	return ids
}

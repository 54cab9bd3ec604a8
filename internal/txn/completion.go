package txn

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// completion is the marker job of one transaction in PrepareCommit or
// PrepareAbort: write the markers to every partition of the transaction,
// then persist CompleteCommit or CompleteAbort. Its fields are immutable but
// remaining, which only its goroutine touches.
type completion struct {
	t                *transaction
	producerID       int64
	epoch            int16
	commit           bool
	coordinatorEpoch int32
	remaining        []TopicPartition
}

// startCompletion starts the marker job of t, which has just entered (or was
// loaded in) PrepareCommit or PrepareAbort. Called with t.mu held; the job
// takes t.mu only between its marker writes.
func (c *Coordinator) startCompletion(t *transaction) {
	job := &completion{
		t:                t,
		producerID:       t.m.producerID,
		epoch:            t.m.epoch,
		commit:           t.m.state == statePrepareCommit,
		coordinatorEpoch: t.owner.coordinatorEpoch,
		remaining:        t.m.sortedPartitions(),
	}
	t.completion = job

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return // the next coordinator of the partition completes it on Load
	}
	c.completions.Add(1)
	go c.runCompletion(job)
}

// runCompletion writes markers until every partition has one, then persists
// the Complete state, retrying both after MarkerRetryBackoff. It gives up
// when the partition is unloaded, and abandons the job (leaving Prepare* for
// the next coordinator to finish, as Kafka does) when a partition answers
// that this coordinator or this producer epoch has been superseded.
func (c *Coordinator) runCompletion(job *completion) {
	defer c.completions.Done()
	ctx := job.t.owner.ctx
	for ctx.Err() == nil {
		if len(job.remaining) > 0 {
			failed := c.markers.WriteMarkers(ctx, job.producerID, job.epoch, job.commit, job.coordinatorEpoch, job.remaining)
			if abandon := c.settleMarkers(job, failed); abandon {
				return
			}
		}
		if len(job.remaining) == 0 && c.finishCompletion(job) {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.cfg.MarkerRetryBackoff):
		}
	}
}

// settleMarkers keeps in job.remaining the partitions whose marker must be
// written again, and drops the others from the transaction's partitions as
// Kafka does, so that DescribeTransactions shows what is still pending.
func (c *Coordinator) settleMarkers(job *completion, failed map[TopicPartition]error) (abandon bool) {
	var retry []TopicPartition
	for _, tp := range job.remaining {
		err := failed[tp]
		switch {
		case err == nil:
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			c.log.Info("partition gone; transaction marker not needed", "transactional_id", job.t.id,
				"topic", tp.Topic, "partition", tp.Partition)
		case errors.Is(err, kerr.TransactionCoordinatorFenced), errors.Is(err, kerr.InvalidProducerEpoch):
			c.log.Error("transaction marker refused: coordinator or producer epoch superseded; leaving the transaction to the next coordinator",
				"transactional_id", job.t.id, "producer_id", job.producerID, "epoch", job.epoch,
				"topic", tp.Topic, "partition", tp.Partition, "err", err)
			abandon = true
			retry = append(retry, tp)
		default:
			c.log.Debug("transaction marker failed; retrying", "transactional_id", job.t.id,
				"topic", tp.Topic, "partition", tp.Partition, "err", err)
			retry = append(retry, tp)
		}
	}

	t := job.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.completion == job {
		for _, tp := range job.remaining {
			if _, again := failed[tp]; !again || errors.Is(failed[tp], kerr.UnknownTopicOrPartition) {
				delete(t.m.partitions, tp)
			}
		}
		if abandon {
			t.completion = nil
		}
	}
	job.remaining = retry
	return abandon
}

// finishCompletion persists CompleteCommit or CompleteAbort once every
// marker is written. It returns false when the write failed and should be
// retried, true when the job is over (done, or no longer current).
func (c *Coordinator) finishCompletion(job *completion) bool {
	t := job.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.completion != job || t.removed || t.unloaded() {
		return true
	}
	state := stateCompleteAbort
	if job.commit {
		state = stateCompleteCommit
	}
	next := t.m.next(state, c.cfg.Now())
	clear(next.partitions)
	ctx, cancel := backgroundContext(t)
	defer cancel()
	if err := c.persist(ctx, t, next); err != nil {
		return false
	}
	t.completion = nil
	c.log.Debug("transaction completed", "transactional_id", t.id, "state", state.String(),
		"producer_id", t.m.producerID, "epoch", t.m.epoch)
	return true
}

package txn

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTransactions (key 65, v0) describes transactional ids of this
// coordinator: state name, producer id and epoch, timeout, start time and
// the partitions of the open transaction (while preparing, those still
// without a marker). An id this coordinator does not serve gets
// NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS, an unknown one
// TRANSACTIONAL_ID_NOT_FOUND.
func (c *Coordinator) DescribeTransactions(_ context.Context, req *kmsg.DescribeTransactionsRequest) *kmsg.DescribeTransactionsResponse {
	resp := kmsg.NewPtrDescribeTransactionsResponse()
	resp.Version = req.Version
	for _, id := range req.TransactionalIDs {
		resp.TransactionStates = append(resp.TransactionStates, c.describe(id))
	}
	return resp
}

func (c *Coordinator) describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	out := kmsg.NewDescribeTransactionsResponseTransactionState()
	out.TransactionalID = id
	out.ProducerID = noProducerID
	out.ProducerEpoch = noProducerEpoch
	out.StartTimestamp = noTimestamp
	if id == "" {
		out.ErrorCode = kerr.InvalidRequest.Code
		return out
	}
	t, err := c.lockTransaction(id, false)
	switch {
	case err != nil:
		out.ErrorCode = err.Code
		return out
	case t == nil:
		out.ErrorCode = kerr.TransactionalIDNotFound.Code
		return out
	}
	defer t.mu.Unlock()
	out.State = t.m.state.String()
	out.ProducerID = t.m.producerID
	out.ProducerEpoch = t.m.epoch
	out.TimeoutMillis = t.m.timeoutMillis
	out.StartTimestamp = t.m.startMillis
	for _, tp := range t.m.sortedPartitions() {
		if n := len(out.Topics); n == 0 || out.Topics[n-1].Topic != tp.Topic {
			ot := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			ot.Topic = tp.Topic
			out.Topics = append(out.Topics, ot)
		}
		last := &out.Topics[len(out.Topics)-1]
		last.Partitions = append(last.Partitions, tp.Partition)
	}
	return out
}

// ListTransactions (key 66, v0-v2) lists the transactional ids of every
// loaded partition, filtered by state name (exact, as Kafka; names it does
// not know are echoed in UnknownStateFilters and, as in Kafka, filter
// nothing), producer id, v1+ by running
// longer than DurationFilterMillis, and v2+ by a regular expression that
// must match the whole id (INVALID_REGULAR_EXPRESSION when it does not
// compile). While any partition loads the answer is
// COORDINATOR_LOAD_IN_PROGRESS with no transactions, as in Kafka.
func (c *Coordinator) ListTransactions(_ context.Context, req *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	resp := kmsg.NewPtrListTransactionsResponse()
	resp.Version = req.Version

	c.mu.Lock()
	loading := false
	for _, ps := range c.partitions {
		loading = loading || ps.loading
	}
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	case loading:
		resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
		return resp
	}

	var pattern *regexp.Regexp
	if req.Version >= 2 && req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		var err error
		if pattern, err = regexp.Compile(`^(?:` + *req.TransactionalIDPattern + `)$`); err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return resp
		}
	}
	names := kmsg.TransactionStateStrings()
	var states []string
	for _, s := range req.StateFilters {
		if slices.Contains(names, s) {
			states = append(states, s)
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, s)
		}
	}
	durationFilter := int64(-1)
	if req.Version >= 1 {
		durationFilter = req.DurationFilterMillis
	}
	nowMillis := c.cfg.Now().UnixMilli()

	for _, t := range c.snapshotTransactions() {
		t.mu.Lock()
		m, removed := t.m, t.removed || t.unloaded()
		t.mu.Unlock()
		switch {
		case removed, m.producerID == noProducerID, m.state == stateDead:
		case len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, m.producerID):
		case len(states) > 0 && !slices.Contains(states, m.state.String()):
		case durationFilter >= 0 && nowMillis-m.startMillis <= durationFilter:
		case pattern != nil && !pattern.MatchString(t.id):
		default:
			ls := kmsg.NewListTransactionsResponseTransactionState()
			ls.TransactionalID = t.id
			ls.ProducerID = m.producerID
			ls.TransactionState = m.state.String()
			resp.TransactionStates = append(resp.TransactionStates, ls)
		}
	}
	slices.SortFunc(resp.TransactionStates, func(a, b kmsg.ListTransactionsResponseTransactionState) int {
		return strings.Compare(a.TransactionalID, b.TransactionalID)
	})
	return resp
}

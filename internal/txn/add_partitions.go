package txn

import (
	"context"
	"maps"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerOffsetsTopic is the topic AddOffsetsToTxn adds a partition of.
const consumerOffsetsTopic = "__consumer_offsets"

// AddPartitionsToTxn (key 24, v0-v5) adds partitions to the producer's
// transaction, moving Empty, CompleteCommit or CompleteAbort to Ongoing (the
// transaction's timeout starts then). Partitions already in an Ongoing
// transaction are acknowledged without a write. While the previous
// transaction's markers are being written the answer is
// CONCURRENT_TRANSACTIONS; a stale epoch is PRODUCER_FENCED
// (INVALID_PRODUCER_EPOCH before v2), another producer id
// INVALID_PRODUCER_ID_MAPPING. One error applies to every partition of a
// transaction, except that partitions which do not exist get
// UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED.
//
// v0-v3 come from producers and carry one transaction. v4+ come from brokers
// and batch transactions; one with VerifyOnly set is only checked (KIP-890
// part 1), per partition, as VerifyPartition does.
func (c *Coordinator) AddPartitionsToTxn(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	resp.Version = req.Version
	if req.Version < 4 {
		topics := make([]topicPartitions, 0, len(req.Topics))
		for _, rt := range req.Topics {
			topics = append(topics, topicPartitions{rt.Topic, rt.Partitions})
		}
		errs := c.addPartitions(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, false, topics, req.Version)
		for _, tp := range topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = tp.topic
			for _, p := range tp.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition = p
				rp.ErrorCode = code(errs[TopicPartition{tp.topic, p}])
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}

	for _, rtx := range req.Transactions {
		topics := make([]topicPartitions, 0, len(rtx.Topics))
		for _, rt := range rtx.Topics {
			topics = append(topics, topicPartitions{rt.Topic, rt.Partitions})
		}
		errs := c.addPartitions(ctx, rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, rtx.VerifyOnly, topics, req.Version)
		out := kmsg.NewAddPartitionsToTxnResponseTransaction()
		out.TransactionalID = rtx.TransactionalID
		for _, tp := range topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			rt.Topic = tp.topic
			for _, p := range tp.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				rp.Partition = p
				rp.ErrorCode = code(errs[TopicPartition{tp.topic, p}])
				rt.Partitions = append(rt.Partitions, rp)
			}
			out.Topics = append(out.Topics, rt)
		}
		resp.Transactions = append(resp.Transactions, out)
	}
	return resp
}

// AddOffsetsToTxn (key 25, v0-v4) adds the __consumer_offsets partition of
// the group (Config.GroupPartition) to the producer's transaction, so that
// its markers also settle the offsets TxnOffsetCommit stages there. Errors
// are AddPartitionsToTxn's.
func (c *Coordinator) AddOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse {
	resp := kmsg.NewPtrAddOffsetsToTxnResponse()
	resp.Version = req.Version
	tp := TopicPartition{consumerOffsetsTopic, c.cfg.GroupPartition(req.Group)}
	errs := c.addPartitions(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, false,
		[]topicPartitions{{tp.Topic, []int32{tp.Partition}}}, req.Version)
	resp.ErrorCode = code(errs[tp])
	return resp
}

// VerifyPartition answers the produce path's KIP-890 part 1 check: whether
// transactionalID's current producer (producerID, epoch) has an open
// transaction that includes tp. It returns nil, or a *kerr.Error:
// INVALID_TXN_STATE when tp was not added (or the transaction is complete),
// PRODUCER_FENCED for another epoch, INVALID_PRODUCER_ID_MAPPING for another
// producer id or an unknown transactional id, CONCURRENT_TRANSACTIONS while
// the transaction's markers are being written, and NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS or COORDINATOR_NOT_AVAILABLE when this
// coordinator does not serve the id. As Kafka's AddPartitionsToTxnManager
// does for Produce, the broker should answer the producer
// INVALID_PRODUCER_EPOCH for PRODUCER_FENCED and NOT_ENOUGH_REPLICAS (which
// it retries) for the coordinator errors and CONCURRENT_TRANSACTIONS.
func (c *Coordinator) VerifyPartition(transactionalID string, producerID int64, epoch int16, tp TopicPartition) error {
	errs := c.addPartitions(context.Background(), transactionalID, producerID, epoch, true,
		[]topicPartitions{{tp.Topic, []int32{tp.Partition}}}, 5)
	return keError(errs[tp])
}

// topicPartitions is one topic of a request, in request order.
type topicPartitions struct {
	topic      string
	partitions []int32
}

// addPartitions adds (or with verifyOnly, checks) the partitions and returns
// each partition's error; a partition missing from the map succeeded.
func (c *Coordinator) addPartitions(ctx context.Context, id string, producerID int64, epoch int16, verifyOnly bool, topics []topicPartitions, version int16) map[TopicPartition]*kerr.Error {
	requested := make(map[TopicPartition]struct{})
	for _, tp := range topics {
		for _, p := range tp.partitions {
			requested[TopicPartition{tp.topic, p}] = struct{}{}
		}
	}
	all := func(err *kerr.Error) map[TopicPartition]*kerr.Error {
		errs := make(map[TopicPartition]*kerr.Error, len(requested))
		for tp := range requested {
			errs[tp] = err
		}
		return errs
	}

	if id == "" {
		return all(kerr.InvalidRequest)
	}
	if exists := c.cfg.PartitionExists; exists != nil {
		var missing []TopicPartition
		for tp := range requested {
			if !exists(tp) {
				missing = append(missing, tp)
			}
		}
		if len(missing) > 0 {
			errs := all(kerr.OperationNotAttempted)
			for _, tp := range missing {
				errs[tp] = kerr.UnknownTopicOrPartition
			}
			return errs
		}
	}

	t, err := c.lockTransaction(id, false)
	switch {
	case err != nil:
		return all(err)
	case t == nil:
		return all(kerr.InvalidProducerIDMapping)
	}
	defer t.mu.Unlock()
	if err := t.m.checkProducer(producerID, epoch); err != nil {
		return all(fencedForVersion(err, version, 2))
	}
	if t.m.isPreparing() {
		return all(kerr.ConcurrentTransactions)
	}

	if verifyOnly {
		errs := make(map[TopicPartition]*kerr.Error)
		for tp := range requested {
			if _, ok := t.m.partitions[tp]; !ok || t.m.state != stateOngoing {
				errs[tp] = kerr.InvalidTxnState
			}
		}
		return errs
	}

	if t.m.state == stateOngoing && isSubset(requested, t.m.partitions) {
		return nil
	}
	switch t.m.state {
	case stateEmpty, stateCompleteCommit, stateCompleteAbort, stateOngoing:
	default:
		c.log.Error("transaction in a state AddPartitionsToTxn cannot leave", "transactional_id", id, "state", t.m.state.String())
		return all(kerr.InvalidTxnState)
	}
	now := c.cfg.Now()
	next := t.m.next(stateOngoing, now)
	if t.m.state != stateOngoing {
		next.startMillis = now.UnixMilli()
	}
	maps.Copy(next.partitions, requested)
	if err := c.persist(ctx, t, next); err != nil {
		return all(err)
	}
	return nil
}

func isSubset(small, big map[TopicPartition]struct{}) bool {
	for tp := range small {
		if _, ok := big[tp]; !ok {
			return false
		}
	}
	return true
}

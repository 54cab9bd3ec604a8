package broker

// TxnOffsetCommit v0-4: a consume-transform-produce transaction's consumer offsets,
// written to __consumer_offsets as part of the producer's transaction and visible only
// once it commits. The group's partition must be in the transaction (AddOffsetsToTxn),
// which is checked here (KIP-890) with the transaction coordinator, on whichever broker it
// is, before the group coordinator writes. Partitions of topics or
// partitions that do not exist are answered UNKNOWN_TOPIC_OR_PARTITION before that check
// and never stored (commit_partitions.go).

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
	"github.com/waybill/waybill/internal/txn"
)

func init() { register(kmsg.TxnOffsetCommit, 0, 4, (*Broker).handleTxnOffsetCommit) }

func (b *Broker) handleTxnOffsetCommit(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.TxnOffsetCommitRequest)
	return func() server.Reply {
		known := *req
		var missing []missingTopic
		known.Topics, missing = splitCommit(b.meta.Image(), req.Topics,
			func(t *kmsg.TxnOffsetCommitRequestTopic) (string, *[]kmsg.TxnOffsetCommitRequestTopicPartition) {
				return t.Topic, &t.Partitions
			},
			func(p *kmsg.TxnOffsetCommitRequestTopicPartition) int32 { return p.Partition })
		resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		if len(known.Topics) > 0 {
			resp = b.txnOffsetCommit(r, &known)
		}
		resp.Topics = answerMissing(resp.Topics, missing,
			func(t *kmsg.TxnOffsetCommitResponseTopic) (string, *[]kmsg.TxnOffsetCommitResponseTopicPartition) {
				return t.Topic, &t.Partitions
			},
			func(name string) kmsg.TxnOffsetCommitResponseTopic {
				t := kmsg.NewTxnOffsetCommitResponseTopic()
				t.Topic = name
				return t
			},
			func(index int32, code int16) kmsg.TxnOffsetCommitResponseTopicPartition {
				p := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				p.Partition, p.ErrorCode = index, code
				return p
			})
		return server.Reply{Msg: resp}
	}
}

// txnOffsetCommit verifies that the group's partition is in the transaction and has the
// coordinator write req's offsets, all of existing partitions.
func (b *Broker) txnOffsetCommit(r *server.Request, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	tp := txn.TopicPartition{Topic: cluster.ConsumerOffsetsTopic, Partition: b.groups.PartitionFor(req.Group)}
	p := b.replicas.get(tp.Topic, tp.Partition)
	if p == nil {
		return txnOffsetCommitError(req, kerr.NotCoordinator.Code)
	}
	guard := p.Guard(req.ProducerID) // before verifying, so a marker in between voids it
	// The transaction coordinator may be another broker than this group coordinator.
	if err := b.verifyTxnPartition(r.Conn.Done, req.TransactionalID, req.ProducerID, req.ProducerEpoch, tp); err != nil {
		return txnOffsetCommitError(req, txnOffsetCommitVerifyCode(err))
	}
	ctx := context.WithValue(r.Conn.Done, guardKey{}, guard)
	return b.groups.TxnOffsetCommit(ctx, req)
}

// txnOffsetCommitVerifyCode is the answer to a TxnOffsetCommit whose verification failed.
// A coordinator that could not be reached is COORDINATOR_LOAD_IN_PROGRESS, as Kafka's
// GroupMetadataManager.maybeConvertOffsetCommitError has it: retriable for every client,
// without a needless lookup of the group coordinator, where NETWORK_EXCEPTION is not
// retried by all.
func txnOffsetCommitVerifyCode(err error) int16 {
	if errors.Is(err, kerr.NetworkException) {
		return kerr.CoordinatorLoadInProgress.Code
	}
	return errorCode(err)
}

func txnOffsetCommitError(req *kmsg.TxnOffsetCommitRequest, code int16) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/txn"
)

// verifyTimeout bounds a KIP-890 verification that asks another broker. The coordinator
// answers from memory, so a healthy one takes a round trip; one that takes longer is
// unreachable or overloaded, and the producer is better told to retry (the produce path
// verifies on the connection's reader, which waits meanwhile, as Kafka mutes a connection
// while its request is handled).
const verifyTimeout = 5 * time.Second

// verifyTxnPartition is KIP-890 part 1's question to the transaction coordinator of id —
// does producerID at epoch have an ongoing transaction that includes tp? — wherever that
// coordinator is: this broker's own when it leads the id's __transaction_state partition,
// otherwise the leader's, asked with AddPartitionsToTxn v4+ VerifyOnly as Kafka's
// AddPartitionsToTxnManager does. It returns nil or an error wrapping the Kafka error
// txn.Coordinator.VerifyPartition documents; failing to reach the coordinator wraps
// NETWORK_EXCEPTION, as in Kafka, and no known coordinator COORDINATOR_NOT_AVAILABLE.
func (b *Broker) verifyTxnPartition(ctx context.Context, id string, producerID int64, epoch int16, tp txn.TopicPartition) error {
	img := b.meta.Image()
	coordinator, err := txnCoordinator(img, b.txns.PartitionFor(id))
	if err != nil {
		return err
	}
	if coordinator == b.cfg.NodeID {
		return b.txns.VerifyPartition(id, producerID, epoch, tp)
	}
	return b.verifyRemote(ctx, img, coordinator, id, producerID, epoch, tp)
}

// txnCoordinator is the broker leading __transaction_state partition p.
func txnCoordinator(img *cluster.Image, p int32) (int32, error) {
	mt, ok := img.Topics[cluster.TransactionStateTopic]
	switch {
	case !ok:
		// No transactional producer has found a coordinator yet, so no transaction is open.
		return -1, fmt.Errorf("%w: %s does not exist", kerr.CoordinatorNotAvailable, cluster.TransactionStateTopic)
	case p < 0 || int(p) >= len(mt.Partitions):
		return -1, fmt.Errorf("%w: %s has no partition %d", kerr.CoordinatorNotAvailable, cluster.TransactionStateTopic, p)
	case mt.Partitions[p].Leader < 0:
		return -1, fmt.Errorf("%w: %s-%d is offline", kerr.CoordinatorNotAvailable, cluster.TransactionStateTopic, p)
	}
	return mt.Partitions[p].Leader, nil
}

// verifyRemote asks broker coordinator to verify, with AddPartitionsToTxn VerifyOnly.
func (b *Broker) verifyRemote(ctx context.Context, img *cluster.Image, coordinator int32, id string,
	producerID int64, epoch int16, tp txn.TopicPartition) error {
	cl, err := b.peers.client(img, coordinator)
	if err != nil {
		return fmt.Errorf("%w: transaction coordinator %d: %v", kerr.NetworkException, coordinator, err)
	}
	rtx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, rtx.VerifyOnly = id, producerID, epoch, true
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = tp.Topic, []int32{tp.Partition}
	rtx.Topics = append(rtx.Topics, rt)
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Transactions = append(req.Transactions, rtx)

	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	kresp, err := cl.Request(ctx, req)
	if err != nil {
		return fmt.Errorf("%w: verifying with transaction coordinator %d at %s: %v", kerr.NetworkException, coordinator, cl.Addr(), err)
	}
	if req.Version < 4 {
		// The peer client went down to a version without VerifyOnly, which the coordinator
		// then took for a client's request with no transactional id: it verified nothing.
		// Kafka lets such a produce through unverified (a rolling upgrade); every Waybill
		// serves v4+, so this is a misconfiguration and the producer keeps retrying.
		return fmt.Errorf("%w: transaction coordinator %d serves AddPartitionsToTxn only up to v%d, without verification",
			kerr.CoordinatorNotAvailable, coordinator, req.Version)
	}
	resp := kresp.(*kmsg.AddPartitionsToTxnResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("transaction coordinator %d: %w", coordinator, err)
	}
	for _, t := range resp.Transactions {
		if t.TransactionalID != id {
			continue
		}
		for _, rt := range t.Topics {
			for _, rp := range rt.Partitions {
				if rt.Topic == tp.Topic && rp.Partition == tp.Partition {
					return kerr.ErrorForCode(rp.ErrorCode)
				}
			}
		}
	}
	return fmt.Errorf("%w: transaction coordinator %d did not answer for %s-%d", kerr.NetworkException, coordinator, tp.Topic, tp.Partition)
}

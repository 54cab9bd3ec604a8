package broker

// AddPartitionsToTxn v0-5. v4+ batches transactions and carries VerifyOnly, which brokers
// send to the coordinator for KIP-890's verification of a transactional produce or
// TxnOffsetCommit (txn_verify.go); clients use v0-3. As in Kafka, v4+ is answered with a
// top-level error code and one result per transaction, every partition with its own code;
// Kafka reserves v4+ to brokers through the CLUSTER_ACTION permission, and Waybill, which
// has no authorizer, serves it to anyone, as Kafka does without one. v5 adds nothing
// Waybill sends (TRANSACTION_ABORTABLE belongs to KIP-890 part 2).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/txn"
)

func init() {
	register(kmsg.AddPartitionsToTxn, 0, 5, txnAPI((*txn.Coordinator).AddPartitionsToTxn))
}

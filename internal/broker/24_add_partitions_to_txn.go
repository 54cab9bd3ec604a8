package broker

// AddPartitionsToTxn v0-5. v4+ batches transactions and carries VerifyOnly, which brokers
// use for KIP-890's produce verification; clients use v0-3 (or v4+ unverified).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/txn"
)

func init() {
	register(kmsg.AddPartitionsToTxn, 0, 5, txnAPI((*txn.Coordinator).AddPartitionsToTxn))
}

package broker

// EndTxn v0-4: commit or abort. The answer comes once the decision is durable in
// __transaction_state; markers are then written to every partition of the transaction.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/txn"
)

func init() { register(kmsg.EndTxn, 0, 4, txnAPI((*txn.Coordinator).EndTxn)) }

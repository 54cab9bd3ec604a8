package broker

// ListTransactions v0-2 (KIP-664; v1 filters by duration, KIP-994; v2 by transactional id pattern).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/txn"
)

func init() { register(kmsg.ListTransactions, 0, 2, txnAPI((*txn.Coordinator).ListTransactions)) }

package broker

// DescribeTransactions v0 (KIP-664): state, producer, timeout and partitions of
// transactional ids.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/txn"
)

func init() {
	register(kmsg.DescribeTransactions, 0, 0, txnAPI((*txn.Coordinator).DescribeTransactions))
}

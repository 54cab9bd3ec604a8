package broker

// AddOffsetsToTxn v0-4: adds the group's __consumer_offsets partition to the transaction,
// so that TxnOffsetCommit's offsets commit or abort with it.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/txn"
)

func init() { register(kmsg.AddOffsetsToTxn, 0, 4, txnAPI((*txn.Coordinator).AddOffsetsToTxn)) }

package broker

// AddOffsetsToTxn v0-4: adds the group's __consumer_offsets partition to the transaction,
// so that TxnOffsetCommit's offsets commit or abort with it. A producer may send it before
// anyone looked up the group's coordinator, so __consumer_offsets is created here if it
// does not exist yet, as FindCoordinator would.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.AddOffsetsToTxn, 0, 4, (*Broker).handleAddOffsetsToTxn) }

func (b *Broker) handleAddOffsetsToTxn(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.AddOffsetsToTxnRequest)
	return func() server.Reply {
		if _, err := b.ensureOffsetsTopic(r.Conn.Done); err != nil {
			resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
			resp.ErrorCode = errorCode(err)
			return server.Reply{Msg: resp}
		}
		return server.Reply{Msg: b.txns.AddOffsetsToTxn(r.Conn.Done, req)}
	}
}

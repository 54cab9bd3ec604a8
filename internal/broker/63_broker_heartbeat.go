package broker

// BrokerHeartbeat v0-1, on the controller listener only: a registered broker keeps its
// session, learns whether it is fenced, and asks for a controlled shutdown (KIP-631).
// The controller logic lives in internal/cluster.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() {
	registerController(kmsg.BrokerHeartbeat, 0, 1, func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(*kmsg.BrokerHeartbeatRequest)
		return func() server.Reply {
			node := b.controller.Load()
			if node == nil {
				resp := req.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
				resp.ErrorCode = kerr.NotController.Code
				return server.Reply{Msg: resp}
			}
			return server.Reply{Msg: node.HandleBrokerHeartbeat(r.Conn.Done, req)}
		}
	})
}

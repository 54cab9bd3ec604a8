package broker

// BrokerHeartbeat v0-1, on the controller listener only: a registered broker keeps its
// session, learns whether it is fenced, and asks for a controlled shutdown (KIP-631).
// The controller logic lives in internal/cluster.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() {
	registerController(kmsg.BrokerHeartbeat, 0, 1, func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(*kmsg.BrokerHeartbeatRequest)
		return func() server.Reply { return server.Reply{Msg: b.meta.HandleBrokerHeartbeat(r.Conn.Done, req)} }
	})
}

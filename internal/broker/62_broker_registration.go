package broker

// BrokerRegistration v0-4, on the controller listener only: a broker registers an
// incarnation with the controller (KIP-631). The controller logic lives in
// internal/cluster; a voter that is not the controller answers NOT_CONTROLLER.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() {
	registerController(kmsg.BrokerRegistration, 0, 4, func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(*kmsg.BrokerRegistrationRequest)
		return func() server.Reply {
			node := b.controller.Load()
			if node == nil {
				resp := req.ResponseKind().(*kmsg.BrokerRegistrationResponse)
				resp.ErrorCode, resp.BrokerEpoch = kerr.NotController.Code, -1
				return server.Reply{Msg: resp}
			}
			return server.Reply{Msg: node.HandleBrokerRegistration(r.Conn.Done, req)}
		}
	})
}

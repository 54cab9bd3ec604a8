package broker

// BrokerRegistration v0-4, on the controller listener only: a broker registers an
// incarnation with the controller (KIP-631). The controller logic lives in
// internal/cluster; a voter that is not the controller answers NOT_CONTROLLER.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
)

func init() {
	registerNodeAPI(kmsg.BrokerRegistration, 0, 4, (*cluster.Node).HandleBrokerRegistration,
		func(r *kmsg.BrokerRegistrationResponse, code int16) { r.ErrorCode = code })
}

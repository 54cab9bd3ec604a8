package broker

// BrokerHeartbeat v0-1, on the controller listener only: a registered broker keeps its
// session, learns whether it is fenced, and asks for a controlled shutdown (KIP-631).
// The controller logic lives in internal/cluster.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
)

func init() {
	registerNodeAPI(kmsg.BrokerHeartbeat, 0, 1, (*cluster.Node).HandleBrokerHeartbeat,
		func(r *kmsg.BrokerHeartbeatResponse, code int16) { r.ErrorCode = code })
}

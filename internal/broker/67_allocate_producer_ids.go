package broker

// AllocateProducerIds v0, on the controller listener only: a broker that is not the
// controller gets its next block of producer ids (KIP-730). The controller logic lives
// in internal/cluster.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
)

func init() {
	registerNodeAPI(kmsg.AllocateProducerIDs, 0, 0, (*cluster.Node).HandleAllocateProducerIDs,
		func(r *kmsg.AllocateProducerIDsResponse, code int16) { r.ErrorCode = code })
}

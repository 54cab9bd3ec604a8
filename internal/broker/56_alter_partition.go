package broker

// AlterPartition v2-3, on the controller listener only: a partition leader asks the
// controller to shrink or expand the ISR (KIP-497); v3 names each member with the broker
// epoch its fetches carried (KIP-903). The controller logic lives in internal/cluster.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
)

func init() {
	registerNodeAPI(kmsg.AlterPartition, 2, 3, (*cluster.Node).HandleAlterPartition,
		func(r *kmsg.AlterPartitionResponse, code int16) { r.ErrorCode = code })
}

package broker

// OffsetDelete v0: removes committed offsets a group is no longer subscribed to.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.OffsetDelete, 0, 0, groupAPI((*group.Coordinator).OffsetDelete)) }

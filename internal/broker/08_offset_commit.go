package broker

// OffsetCommit v2-9: stored in __consumer_offsets and acknowledged once durable.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.OffsetCommit, 2, 9, groupAPI((*group.Coordinator).OffsetCommit)) }

package broker

// OffsetFetch v1-8 (v8 batches groups). An unknown group answers -1 offsets without error, as Kafka does.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.OffsetFetch, 1, 8, groupAPI((*group.Coordinator).OffsetFetch)) }

package broker

// Heartbeat v0-4: keeps a member alive and tells it when to rejoin.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.Heartbeat, 0, 4, groupAPI((*group.Coordinator).Heartbeat)) }

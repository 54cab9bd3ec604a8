package broker

// LeaveGroup v0-5 (v3+ removes a batch of members, static ones by instance id).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.LeaveGroup, 0, 5, groupAPI((*group.Coordinator).LeaveGroup)) }

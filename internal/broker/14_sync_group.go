package broker

// SyncGroup v0-5: the leader's assignment, handed to every member.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.SyncGroup, 0, 5, groupAPI((*group.Coordinator).SyncGroup)) }

package broker

// ListGroups v0-5 (v4 filters by state, v5 by type).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.ListGroups, 0, 5, groupAPI((*group.Coordinator).ListGroups)) }

package broker

// DeleteGroups v0-2: only empty groups (NON_EMPTY_GROUP otherwise).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.DeleteGroups, 0, 2, groupAPI((*group.Coordinator).DeleteGroups)) }

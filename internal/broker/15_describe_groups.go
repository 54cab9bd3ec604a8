package broker

// DescribeGroups v0-5: state, protocol and members of each group.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/group"
)

func init() { register(kmsg.DescribeGroups, 0, 5, groupAPI((*group.Coordinator).DescribeGroups)) }

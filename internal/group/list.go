package group

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// classicGroupType is the group type KIP-848 names these groups by.
const classicGroupType = "classic"

// ListGroups (key 16, v0-v5) lists the groups of every loaded partition.
// v4+ filter by state and v5+ by type, both case-insensitively; every group
// here is "classic". While a partition is loading, the answer carries
// COORDINATOR_LOAD_IN_PROGRESS along with the groups already known.
func (c *Coordinator) ListGroups(_ context.Context, req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := kmsg.NewPtrListGroupsResponse()
	resp.Version = req.Version

	c.mu.Lock()
	for _, ps := range c.partitions {
		if ps.loading {
			resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
		}
	}
	if c.closed {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
	}
	c.mu.Unlock()

	if len(req.TypesFilter) > 0 && !containsFold(req.TypesFilter, classicGroupType) {
		return resp
	}
	for _, g := range c.snapshotGroups() {
		g.mu.Lock()
		state, protocolType := g.state, g.protocolType
		g.mu.Unlock()
		if state == stateDead || (len(req.StatesFilter) > 0 && !containsFold(req.StatesFilter, string(state))) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group = g.id
		lg.ProtocolType = protocolType
		lg.GroupState = string(state)
		lg.GroupType = classicGroupType
		resp.Groups = append(resp.Groups, lg)
	}
	slices.SortFunc(resp.Groups, func(a, b kmsg.ListGroupsResponseGroup) int { return strings.Compare(a.Group, b.Group) })
	return resp
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(e string) bool { return strings.EqualFold(e, s) })
}

package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups (key 15, v0-v6) describes groups. As in Kafka, the protocol
// and the members' metadata and assignments are shown only for a Stable
// group. A group that does not exist is described as Dead with no error
// before v6, and with GROUP_ID_NOT_FOUND from v6 on (KIP-1043).
// AuthorizedOperations is left at its "not provided" default; the broker
// fills it when it implements ACLs.
func (c *Coordinator) DescribeGroups(_ context.Context, req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := kmsg.NewPtrDescribeGroupsResponse()
	resp.Version = req.Version
	for _, id := range req.Groups {
		resp.Groups = append(resp.Groups, c.describe(id, req.Version))
	}
	return resp
}

func (c *Coordinator) describe(id string, version int16) kmsg.DescribeGroupsResponseGroup {
	out := kmsg.NewDescribeGroupsResponseGroup()
	out.Group = id
	g, err := c.lookup(id, false)
	if err != nil {
		out.ErrorCode = err.Code
		return out
	}
	if g != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.is(stateDead) {
			g = nil
		}
	}
	if g == nil {
		out.State = string(stateDead)
		if version >= 6 {
			out.ErrorCode = kerr.GroupIDNotFound.Code
			out.ErrorMessage = stringPtr("Group " + id + " not found.")
		}
		return out
	}

	out.State = string(g.state)
	out.ProtocolType = g.protocolType
	stable := g.is(stateStable)
	if stable {
		out.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = optionalString(m.instanceID)
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		if stable {
			dm.ProtocolMetadata = m.metadataFor(g.protocol)
			dm.MemberAssignment = m.assignment
		}
		out.Members = append(out.Members, dm)
	}
	return out
}

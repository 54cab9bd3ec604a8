package group

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup (key 13, v0-v5) removes members and rebalances the rest. v0-v2
// name one member; v3+ take a batch of members by member id or, for
// administrative removal of a static member, by instance id alone, with an
// error per member. Before v3 the one member's error is the top-level error.
func (c *Coordinator) LeaveGroup(_ context.Context, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := kmsg.NewPtrLeaveGroupResponse()
	resp.Version = req.Version

	leaving := req.Members
	if req.Version < 3 {
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = req.MemberID
		leaving = []kmsg.LeaveGroupRequestMember{m}
	}
	groupErr, memberErrs := c.leaveGroup(req.Group, leaving)
	resp.ErrorCode = code(groupErr)
	for i, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID = lm.MemberID
		rm.InstanceID = lm.InstanceID
		if memberErrs != nil {
			rm.ErrorCode = code(memberErrs[i])
		}
		resp.Members = append(resp.Members, rm)
	}
	if req.Version < 3 && resp.ErrorCode == 0 && len(resp.Members) == 1 {
		resp.ErrorCode = resp.Members[0].ErrorCode
	}
	if req.Version < 3 || groupErr != nil {
		resp.Members = nil
	}
	return resp
}

// leaveGroup returns a group-level error, or one error per leaving member.
func (c *Coordinator) leaveGroup(groupID string, leaving []kmsg.LeaveGroupRequestMember) (*kerr.Error, []*kerr.Error) {
	if groupID == "" {
		return kerr.InvalidGroupID, nil
	}
	g, err := c.lookup(groupID, false)
	if err != nil {
		return err, nil
	}
	errs := make([]*kerr.Error, len(leaving))
	if g == nil {
		for i := range errs {
			errs[i] = kerr.UnknownMemberID
		}
		return nil, errs
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	now := c.cfg.Now()
	g.fireDeadlines(now)
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable, nil
	}
	for i, lm := range leaving {
		errs[i] = g.leave(lm, now)
	}
	return nil, errs
}

func (g *group) leave(lm kmsg.LeaveGroupRequestMember, now time.Time) *kerr.Error {
	instanceID := ""
	if lm.InstanceID != nil {
		instanceID = *lm.InstanceID
	}
	reason := "member left"
	if lm.Reason != nil {
		reason += ": " + *lm.Reason
	}
	if lm.MemberID == "" {
		// Removal of a static member by instance id (kafka-consumer-groups
		// --delete-members, KIP-345).
		id, ok := g.staticMemberID(instanceID)
		if !ok {
			return kerr.UnknownMemberID
		}
		g.removeMemberAndRebalance(g.members[id], now, reason)
		return nil
	}
	if _, pending := g.pendingJoins[lm.MemberID]; pending {
		delete(g.pendingJoins, lm.MemberID)
		g.tryCompleteJoin(now)
		return nil
	}
	if err := g.validateMember(lm.MemberID, instanceID); err != nil {
		return err
	}
	g.removeMemberAndRebalance(g.members[lm.MemberID], now, reason)
	return nil
}

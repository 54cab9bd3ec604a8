package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat (key 12, v0-v4) keeps a member's session alive and tells it,
// with REBALANCE_IN_PROGRESS, when it must rejoin. Heartbeats are accepted
// in CompletingRebalance too, as clients start sending them right after
// their JoinGroup answer. v3+ carries the instance id.
func (c *Coordinator) Heartbeat(_ context.Context, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.Version = req.Version
	resp.ErrorCode = code(c.heartbeat(req))
	return resp
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) *kerr.Error {
	if req.Group == "" {
		return kerr.InvalidGroupID
	}
	g, err := c.lookup(req.Group, false)
	if err != nil {
		return err
	}
	if g == nil {
		return kerr.UnknownMemberID
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	now := c.cfg.Now()
	g.fireDeadlines(now)
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable
	}
	instanceID := ""
	if req.InstanceID != nil {
		instanceID = *req.InstanceID
	}
	if err := g.validateMember(req.MemberID, instanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case stateCompletingRebalance, stateStable:
		m.refreshSession(now)
		return nil
	case statePreparingRebalance:
		m.refreshSession(now)
		return kerr.RebalanceInProgress
	default:
		return kerr.UnknownMemberID
	}
}

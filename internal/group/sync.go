package group

import (
	"bytes"
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup (key 14, v0-v5) completes a rebalance: the leader brings the
// assignment, which is persisted with the group before any member sees it;
// followers block until it arrives or ctx ends. v3+ carries the instance id,
// v5+ the protocol type and name, which must match the group's.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := c.syncGroup(ctx, req)
	resp.Version = req.Version
	return resp
}

func (c *Coordinator) syncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	fail := func(err *kerr.Error) *kmsg.SyncGroupResponse {
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.ErrorCode = code(err)
		return resp
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID)
	}
	g, err := c.lookup(req.Group, false)
	if err != nil {
		return fail(err)
	}
	if g == nil {
		return fail(kerr.UnknownMemberID)
	}

	g.mu.Lock()
	resp, wait := g.sync(ctx, req)
	g.mu.Unlock()
	if resp != nil {
		return resp
	}
	select {
	case resp := <-wait:
		return resp
	case <-ctx.Done():
		return g.abandonSync(wait)
	}
}

func (g *group) sync(ctx context.Context, req *kmsg.SyncGroupRequest) (*kmsg.SyncGroupResponse, chan *kmsg.SyncGroupResponse) {
	now := g.c.cfg.Now()
	g.fireDeadlines(now)
	if g.is(stateDead) {
		return g.syncError(kerr.CoordinatorNotAvailable), nil
	}
	instanceID := ""
	if req.InstanceID != nil {
		instanceID = *req.InstanceID
	}
	if err := g.validateMember(req.MemberID, instanceID); err != nil {
		return g.syncError(err), nil
	}
	if req.Generation != g.generation {
		return g.syncError(kerr.IllegalGeneration), nil
	}
	if (req.ProtocolType != nil && *req.ProtocolType != g.protocolType) ||
		(req.Protocol != nil && *req.Protocol != g.protocol) {
		return g.syncError(kerr.InconsistentGroupProtocol), nil
	}

	m := g.members[req.MemberID]
	switch g.state {
	case statePreparingRebalance:
		return g.syncError(kerr.RebalanceInProgress), nil
	case stateStable:
		// A repeated SyncGroup (its answer was lost) gets the assignment
		// again.
		delete(g.pendingSync, m.id)
		m.refreshSession(now)
		return g.syncSuccess(m), nil
	case stateCompletingRebalance:
	default:
		return g.syncError(kerr.UnknownMemberID), nil
	}

	// CompletingRebalance: park, and if this is the leader, complete.
	g.answerSync(m, g.syncError(kerr.RebalanceInProgress)) // superseded
	wait := make(chan *kmsg.SyncGroupResponse, 1)
	m.syncWaiter = wait
	delete(g.pendingSync, m.id)
	if m.id != g.leader {
		return nil, wait
	}

	assignment := make(map[string][]byte, len(g.members))
	for _, a := range req.GroupAssignment {
		if _, ok := g.members[a.MemberID]; ok {
			assignment[a.MemberID] = bytes.Clone(a.MemberAssignment) // may alias the request buffer
		}
	}
	for id := range g.members {
		if assignment[id] == nil {
			assignment[id] = []byte{} // members the leader left out get nothing
		}
	}
	if err := g.persistGroup(ctx, assignment); err != nil {
		g.c.log.Warn("failed to persist group assignment", "group", g.id, "generation", g.generation, "err", err)
		g.resetAssignments(groupStoreError(err))
		g.maybePrepareRebalance(now, "failed to persist the assignment")
		return nil, wait
	}
	g.setAssignments(assignment, now)
	g.transition(stateStable, now)
	return nil, wait
}

// abandonSync forgets a parked SyncGroup whose requester went away, unless
// its answer arrived meanwhile.
func (g *group) abandonSync(wait chan *kmsg.SyncGroupResponse) *kmsg.SyncGroupResponse {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case resp := <-wait:
		return resp
	default:
	}
	for _, m := range g.members {
		if m.syncWaiter == wait {
			m.syncWaiter = nil
		}
	}
	return g.syncError(kerr.RebalanceInProgress)
}

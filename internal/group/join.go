package group

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup (key 11, v0-v9) adds or rejoins a member and, for most joins,
// blocks until the rebalance completes or ctx ends (then it answers
// REBALANCE_IN_PROGRESS and the member no longer counts as joined).
//
// v0 has no rebalance timeout (the session timeout stands in), v4+ requires
// a known member id (KIP-394: the first join of a dynamic member is answered
// MEMBER_ID_REQUIRED with the id to use), v5+ carries group.instance.id
// (KIP-345). v9's SkipAssignment is answered false: a static leader that
// rejoins a stable group is told the old leader id instead, the pre-v9 way.
func (c *Coordinator) JoinGroup(ctx context.Context, client Client, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	resp := c.joinGroup(ctx, client, req)
	resp.Version = req.Version
	return resp
}

// joinRequest is a JoinGroup with its version-dependent defaults resolved.
type joinRequest struct {
	memberID         string
	instanceID       string
	client           Client
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocolType     string
	protocols        []protocol
	requireKnownID   bool
}

func (c *Coordinator) joinGroup(ctx context.Context, client Client, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	fail := func(err *kerr.Error) *kmsg.JoinGroupResponse {
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = code(err)
		resp.MemberID = req.MemberID
		return resp
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID)
	}
	jr := joinRequest{
		memberID:         req.MemberID,
		client:           client,
		sessionTimeout:   time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		rebalanceTimeout: time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond,
		protocolType:     req.ProtocolType,
		requireKnownID:   req.Version >= 4,
	}
	if req.Version == 0 {
		jr.rebalanceTimeout = jr.sessionTimeout
	}
	if req.InstanceID != nil {
		jr.instanceID = *req.InstanceID
	}
	for _, p := range req.Protocols {
		// Cloned: the request's bytes may alias the connection's buffer.
		jr.protocols = append(jr.protocols, protocol{name: p.Name, metadata: bytes.Clone(p.Metadata)})
	}
	if jr.sessionTimeout < c.cfg.MinSessionTimeout || jr.sessionTimeout > c.cfg.MaxSessionTimeout {
		return fail(kerr.InvalidSessionTimeout)
	}

	// Only a join without a member id may create the group; a member id
	// for a group that does not exist is stale.
	g, err := c.lookup(req.Group, req.MemberID == "")
	if err != nil {
		return fail(err)
	}
	if g == nil {
		return fail(kerr.UnknownMemberID)
	}

	g.mu.Lock()
	resp, wait := g.join(ctx, jr, c.cfg.Now())
	g.mu.Unlock()
	if resp != nil {
		return resp
	}
	select {
	case resp := <-wait:
		return resp
	case <-ctx.Done():
		return g.abandonJoin(wait)
	}
}

// abandonJoin stops counting a parked JoinGroup whose requester went away,
// unless its answer arrived meanwhile.
func (g *group) abandonJoin(wait chan *kmsg.JoinGroupResponse) *kmsg.JoinGroupResponse {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case resp := <-wait:
		return resp
	default:
	}
	for _, m := range g.members {
		if m.joinWaiter == wait {
			m.joinWaiter = nil
		}
	}
	// The group may now be complete without this member.
	g.tryCompleteJoin(g.c.cfg.Now())
	return g.joinError("", kerr.RebalanceInProgress)
}

// join runs a JoinGroup against the group. It returns either an immediate
// answer or a channel on which the answer will arrive.
func (g *group) join(ctx context.Context, jr joinRequest, now time.Time) (*kmsg.JoinGroupResponse, chan *kmsg.JoinGroupResponse) {
	g.fireDeadlines(now)
	if g.is(stateDead) {
		// The group was deleted or unloaded meanwhile; the client finds
		// the coordinator again and retries.
		return g.joinError(jr.memberID, kerr.CoordinatorNotAvailable), nil
	}
	if !g.supportsProtocols(jr.protocolType, jr.protocols) {
		return g.joinError(jr.memberID, kerr.InconsistentGroupProtocol), nil
	}
	if jr.memberID == "" {
		return g.joinUnknownMember(ctx, jr, now)
	}
	if _, pending := g.pendingJoins[jr.memberID]; pending {
		// The second join of KIP-394: the member now has its id.
		if _, taken := g.staticMemberID(jr.instanceID); taken {
			return g.joinError(jr.memberID, kerr.FencedInstanceID), nil
		}
		return g.addMemberAndRebalance(jr, jr.memberID, now)
	}
	if err := g.validateMember(jr.memberID, jr.instanceID); err != nil {
		return g.joinError(jr.memberID, err), nil
	}
	m := g.members[jr.memberID]
	switch g.state {
	case statePreparingRebalance:
		return g.updateMemberAndRebalance(m, jr, now)
	case stateCompletingRebalance:
		if m.sameProtocols(jr.protocols) {
			// The member lost its JoinGroup answer; send it again.
			return g.joinSuccess(m, g.leader, m.id == g.leader), nil
		}
		return g.updateMemberAndRebalance(m, jr, now)
	case stateStable:
		if m.id == g.leader || !m.sameProtocols(jr.protocols) {
			// The leader rejoins to trigger a rebalance (for example on
			// a metadata change), and changed metadata needs one too.
			return g.updateMemberAndRebalance(m, jr, now)
		}
		return g.joinSuccess(m, g.leader, false), nil
	default: // Empty has no members to validate.
		return g.joinError(jr.memberID, kerr.UnknownMemberID), nil
	}
}

// joinUnknownMember handles a join without a member id.
func (g *group) joinUnknownMember(ctx context.Context, jr joinRequest, now time.Time) (*kmsg.JoinGroupResponse, chan *kmsg.JoinGroupResponse) {
	prefix := jr.client.ID
	if jr.instanceID != "" {
		prefix = jr.instanceID
	}
	newID := prefix + "-" + newUUID()
	if jr.instanceID != "" {
		if oldID, ok := g.staticMemberID(jr.instanceID); ok {
			return g.rejoinStaticMember(ctx, g.members[oldID], newID, jr, now)
		}
		return g.addMemberAndRebalance(jr, newID, now)
	}
	if jr.requireKnownID {
		// KIP-394: remember the id for a session timeout and have the
		// client join again with it, so that clients which never get
		// an answer do not pile members into the group.
		g.pendingJoins[newID] = now.Add(jr.sessionTimeout)
		return g.joinError(newID, kerr.MemberIDRequired), nil
	}
	return g.addMemberAndRebalance(jr, newID, now)
}

func (g *group) addMemberAndRebalance(jr joinRequest, id string, now time.Time) (*kmsg.JoinGroupResponse, chan *kmsg.JoinGroupResponse) {
	m := &member{
		id:               id,
		instanceID:       jr.instanceID,
		clientID:         jr.client.ID,
		clientHost:       jr.client.Host,
		sessionTimeout:   jr.sessionTimeout,
		rebalanceTimeout: jr.rebalanceTimeout,
		protocolType:     jr.protocolType,
		protocols:        jr.protocols,
	}
	wait := make(chan *kmsg.JoinGroupResponse, 1)
	m.joinWaiter = wait
	g.addMember(m, now)
	g.maybePrepareRebalance(now, "member "+id+" joined")
	g.tryCompleteJoin(now)
	return nil, wait
}

func (g *group) updateMemberAndRebalance(m *member, jr joinRequest, now time.Time) (*kmsg.JoinGroupResponse, chan *kmsg.JoinGroupResponse) {
	wait := g.parkJoin(m, jr)
	g.maybePrepareRebalance(now, "member "+m.id+" rejoined")
	g.tryCompleteJoin(now)
	return nil, wait
}

// parkJoin updates a rejoining member and parks its JoinGroup. A JoinGroup
// it had parked before is superseded: its requester has given up on it.
func (g *group) parkJoin(m *member, jr joinRequest) chan *kmsg.JoinGroupResponse {
	g.answerJoin(m, g.joinError(m.id, kerr.RebalanceInProgress))
	m.protocols = jr.protocols
	m.sessionTimeout = jr.sessionTimeout
	m.rebalanceTimeout = jr.rebalanceTimeout
	m.clientID, m.clientHost = jr.client.ID, jr.client.Host
	wait := make(chan *kmsg.JoinGroupResponse, 1)
	m.joinWaiter = wait
	return wait
}

// rejoinStaticMember handles a known group.instance.id joining without a
// member id, as a restarted static member does (KIP-345): the member gets a
// new id and the old id is fenced. A stable group keeps its assignment and
// does not rebalance when the member's protocols are unchanged.
func (g *group) rejoinStaticMember(ctx context.Context, m *member, newID string, jr joinRequest, now time.Time) (*kmsg.JoinGroupResponse, chan *kmsg.JoinGroupResponse) {
	oldID, oldLeader := m.id, g.leader
	before := *m
	unchanged := m.sameProtocols(jr.protocols)
	g.replaceStaticMember(m, newID)
	m.refreshSession(now)

	switch g.state {
	case stateStable:
		if unchanged {
			// Persist the new member id, so that a coordinator that
			// reloads the group fences the old one too.
			m.clientID, m.clientHost = jr.client.ID, jr.client.Host
			m.sessionTimeout, m.rebalanceTimeout = jr.sessionTimeout, jr.rebalanceTimeout
			if err := g.persistGroup(ctx, g.currentAssignments()); err != nil {
				// Not durable, so not applied: the old id stays valid.
				g.replaceStaticMember(m, oldID)
				m.clientID, m.clientHost = before.clientID, before.clientHost
				m.sessionTimeout, m.rebalanceTimeout = before.sessionTimeout, before.rebalanceTimeout
				m.heartbeatDeadline = before.heartbeatDeadline
				return g.joinError("", groupStoreError(err)), nil
			}
			// The old leader id is returned even when this member is the
			// leader, so that it does not run an assignment a stable
			// group would ignore.
			return g.joinSuccess(m, oldLeader, false), nil
		}
		wait := g.parkJoin(m, jr)
		g.prepareRebalance(now, "static member "+jr.instanceID+" rejoined with new metadata")
		return nil, wait
	case stateCompletingRebalance:
		// The leader may be assigning to the old member id: rebalance so
		// the new id gets an assignment.
		wait := g.parkJoin(m, jr)
		g.prepareRebalance(now, "static member "+jr.instanceID+" rejoined during sync")
		return nil, wait
	default: // PreparingRebalance: the member just joins the rebalance.
		wait := g.parkJoin(m, jr)
		g.tryCompleteJoin(now)
		return nil, wait
	}
}

// validateMember checks that memberID is in the group and, for a static
// member, that its instance id still maps to that member id.
func (g *group) validateMember(memberID, instanceID string) *kerr.Error {
	if instanceID != "" {
		current, ok := g.staticMemberID(instanceID)
		switch {
		case !ok:
			return kerr.UnknownMemberID
		case current != memberID:
			return kerr.FencedInstanceID
		}
		return nil
	}
	if _, ok := g.members[memberID]; !ok {
		return kerr.UnknownMemberID
	}
	return nil
}

// newUUID returns a random (version 4) UUID in its usual text form, as the
// Java coordinator appends to member ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the rebalance state machine: Kafka's prepareRebalance,
// DelayedJoin / InitialDelayedJoin, onCompleteJoin and the expiry of
// sessions, pending member ids and pending syncs.

// maybePrepareRebalance starts a rebalance unless one is already preparing.
func (g *group) maybePrepareRebalance(now time.Time, reason string) {
	if g.is(stateStable, stateCompletingRebalance, stateEmpty) {
		g.prepareRebalance(now, reason)
	}
}

// prepareRebalance moves the group to PreparingRebalance, where members
// must rejoin within the rebalance timeout. Members parked in SyncGroup are
// told REBALANCE_IN_PROGRESS so they rejoin.
func (g *group) prepareRebalance(now time.Time, reason string) {
	g.c.log.Debug("preparing rebalance", "group", g.id, "generation", g.generation, "reason", reason)
	if g.is(stateCompletingRebalance) {
		g.resetAssignments(kerr.RebalanceInProgress)
	}
	clear(g.pendingSync)
	g.syncDeadline = time.Time{}

	if g.is(stateEmpty) {
		// The first rebalance of an empty group waits
		// group.initial.rebalance.delay.ms for more members, extending the
		// wait while members keep arriving, up to the rebalance timeout.
		delay := g.c.cfg.InitialRebalanceDelay
		g.inInitialDelay = true
		g.newMemberAdded = false
		g.joinDeadline = now.Add(delay)
		g.initialDelayRemaining = max(g.rebalanceTimeout()-delay, 0)
	} else {
		g.inInitialDelay = false
		g.joinDeadline = now.Add(g.rebalanceTimeout())
	}
	g.transition(statePreparingRebalance, now)
	g.tryCompleteJoin(now)
}

// tryCompleteJoin ends the join phase when every member has rejoined, or
// when its deadline has passed.
func (g *group) tryCompleteJoin(now time.Time) {
	if !g.is(statePreparingRebalance) {
		return
	}
	if g.inInitialDelay {
		if now.Before(g.joinDeadline) {
			return
		}
		if g.newMemberAdded && g.initialDelayRemaining > 0 {
			delay := min(g.c.cfg.InitialRebalanceDelay, g.initialDelayRemaining)
			g.joinDeadline = now.Add(delay)
			g.initialDelayRemaining = max(g.initialDelayRemaining-g.c.cfg.InitialRebalanceDelay, 0)
			g.newMemberAdded = false
			return
		}
		g.completeJoin(now)
		return
	}
	if g.allJoined() || !now.Before(g.joinDeadline) {
		g.completeJoin(now)
	}
}

// completeJoin starts the next generation with the members that rejoined.
// Dynamic members that did not rejoin are dropped; static ones stay until
// their session expires (KIP-345).
func (g *group) completeJoin(now time.Time) {
	for _, m := range g.sortedMembers() {
		if m.joinWaiter == nil && m.instanceID == "" {
			g.c.log.Info("removing member that did not rejoin", "group", g.id, "member", m.id)
			g.removeMember(m)
		}
	}
	if !g.electJoinedLeader() && len(g.members) > 0 {
		// Only static members that have not rejoined are left. Wait
		// another rebalance timeout for them to rejoin or expire.
		g.inInitialDelay = false
		g.joinDeadline = now.Add(g.rebalanceTimeout())
		return
	}

	g.generation++
	clear(g.pendingSync)
	if len(g.members) == 0 {
		g.protocol = ""
		g.transition(stateEmpty, now)
		g.persistInBackground()
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(stateCompletingRebalance, now)
	for _, m := range g.sortedMembers() {
		g.answerJoin(m, g.joinSuccess(m, g.leader, m.id == g.leader))
		m.isNew = false
		m.refreshSession(now)
		g.pendingSync[m.id] = struct{}{}
	}
	// Members that never send SyncGroup are removed when this passes
	// (Kafka's pending sync timeout), so a lost member cannot stall the
	// group in CompletingRebalance.
	g.syncDeadline = now.Add(g.rebalanceTimeout())
	g.c.log.Info("rebalance completed", "group", g.id, "generation", g.generation,
		"protocol", g.protocol, "leader", g.leader, "members", len(g.members))
}

// electJoinedLeader keeps the leader if it rejoined, or else picks a member
// that did; it reports false when no member rejoined.
func (g *group) electJoinedLeader() bool {
	if g.leader == "" {
		return false
	}
	if l := g.members[g.leader]; l != nil && l.joinWaiter != nil {
		return true
	}
	for _, m := range g.sortedMembers() {
		if m.joinWaiter != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

// removeMemberAndRebalance removes a member that left or expired and lets
// the remaining members rebalance.
func (g *group) removeMemberAndRebalance(m *member, now time.Time, reason string) {
	g.removeMember(m)
	switch g.state {
	case stateStable, stateCompletingRebalance:
		g.maybePrepareRebalance(now, reason)
	case statePreparingRebalance:
		g.tryCompleteJoin(now)
	}
}

// fireDeadlines applies every timeout that has passed at now.
func (g *group) fireDeadlines(now time.Time) {
	if g.is(stateDead) {
		return
	}
	for id, expiry := range g.pendingJoins {
		if !now.Before(expiry) {
			delete(g.pendingJoins, id)
		}
	}
	for _, m := range g.sortedMembers() {
		if g.members[m.id] == m && !m.alive(now) {
			g.c.log.Info("member session expired", "group", g.id, "member", m.id)
			g.removeMemberAndRebalance(m, now, "session timeout of "+m.id)
		}
	}
	g.tryCompleteJoin(now)
	if g.is(stateCompletingRebalance, stateStable) && len(g.pendingSync) > 0 && !now.Before(g.syncDeadline) {
		for id := range g.pendingSync {
			if m := g.members[id]; m != nil {
				g.c.log.Info("removing member that did not sync", "group", g.id, "member", id)
				g.removeMember(m)
			}
		}
		g.prepareRebalance(now, "pending sync expired")
	}
}

// setAssignments installs the leader's assignment and answers every member
// parked in SyncGroup.
func (g *group) setAssignments(assignment map[string][]byte, now time.Time) {
	for _, m := range g.members {
		m.assignment = assignment[m.id]
		if m.syncWaiter != nil {
			g.answerSync(m, g.syncSuccess(m))
			m.refreshSession(now)
		}
	}
}

// resetAssignments forgets the assignment and answers every member parked
// in SyncGroup with err.
func (g *group) resetAssignments(err *kerr.Error) {
	for _, m := range g.members {
		m.assignment = nil
		g.answerSync(m, g.syncError(err))
	}
}

func (g *group) answerJoin(m *member, resp *kmsg.JoinGroupResponse) {
	if m.joinWaiter != nil {
		m.joinWaiter <- resp
		m.joinWaiter = nil
	}
}

func (g *group) answerSync(m *member, resp *kmsg.SyncGroupResponse) {
	if m.syncWaiter != nil {
		m.syncWaiter <- resp
		m.syncWaiter = nil
	}
}

// joinError is a failed JoinGroup answer. Protocol stays nil: the encoder
// writes "" before v7 and null from v7 on, as Kafka does.
func (g *group) joinError(memberID string, err *kerr.Error) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.ErrorCode = code(err)
	resp.MemberID = memberID
	resp.Generation = -1
	return resp
}

// joinSuccess is the JoinGroup answer for m in the current generation. Only
// the leader gets the members and their metadata to run the assignment.
func (g *group) joinSuccess(m *member, leader string, withMembers bool) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Generation = g.generation
	resp.ProtocolType = stringPtr(g.protocolType)
	if g.protocol != "" {
		resp.Protocol = stringPtr(g.protocol)
	}
	resp.LeaderID = leader
	resp.MemberID = m.id
	if withMembers {
		for _, other := range g.sortedMembers() {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID = other.id
			rm.InstanceID = optionalString(other.instanceID)
			rm.ProtocolMetadata = other.metadataFor(g.protocol)
			resp.Members = append(resp.Members, rm)
		}
	}
	return resp
}

func (g *group) syncError(err *kerr.Error) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.ErrorCode = code(err)
	return resp
}

func (g *group) syncSuccess(m *member) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.ProtocolType = stringPtr(g.protocolType)
	resp.Protocol = stringPtr(g.protocol)
	resp.MemberAssignment = m.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}

func stringPtr(s string) *string { return &s }

// optionalString maps "" to null, for instance ids.
func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

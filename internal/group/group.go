package group

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupState is a classic group's state, named as Kafka names it on the wire.
type groupState string

const (
	stateEmpty               groupState = "Empty"
	statePreparingRebalance  groupState = "PreparingRebalance"
	stateCompletingRebalance groupState = "CompletingRebalance"
	stateStable              groupState = "Stable"
	stateDead                groupState = "Dead"
)

// group is one classic group. Every method requires g.mu held.
type group struct {
	c         *Coordinator
	id        string
	partition int32

	mu sync.Mutex

	state      groupState
	stateSince time.Time // Kafka's currentStateTimestamp

	generation   int32
	protocolType string // set by the first member; "" for commit-only groups
	protocol     string // selected protocol of this generation; "" when none
	leader       string // member id; "" when there are no members

	members       map[string]*member
	staticMembers map[string]string    // group.instance.id -> member id
	pendingJoins  map[string]time.Time // ids handed out with MEMBER_ID_REQUIRED -> expiry

	// Rebalance bookkeeping, meaningful in PreparingRebalance.
	joinDeadline          time.Time
	inInitialDelay        bool          // Kafka's InitialDelayedJoin
	initialDelayRemaining time.Duration // how much longer the initial delay may be extended
	newMemberAdded        bool          // a member joined during the initial delay

	// Members of this generation that have not sent SyncGroup yet, and when
	// they are given up on (meaningful in CompletingRebalance and Stable).
	pendingSync  map[string]struct{}
	syncDeadline time.Time

	offsets offsetState
	// lastLogOrder is the logOrder of the group's latest offset record.
	lastLogOrder int64
}

type topicPartition struct {
	topic     string
	partition int32
}

type committedOffset struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	committedAt time.Time
	// logOrder is the record's place among the group's offset records in
	// the log (larger is later). Only orders records of one group, which is
	// all that deciding between a committed and a transactional offset
	// needs; Kafka uses the record's log offset for the same purpose.
	logOrder int64
}

// member is one member of a group.
type member struct {
	id         string
	instanceID string // group.instance.id; "" for a dynamic member
	clientID   string
	clientHost string

	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration

	protocolType string
	protocols    []protocol // in the member's order of preference
	assignment   []byte

	// isNew is set until the member's first join completes; such a member
	// cannot heartbeat yet, so it expires by newMemberJoinTimeout instead.
	isNew bool
	// heartbeatDeadline is when the member is considered dead unless it is
	// parked in JoinGroup or SyncGroup.
	heartbeatDeadline time.Time

	// A parked JoinGroup or SyncGroup waits on these (buffered, capacity 1).
	joinWaiter chan *kmsg.JoinGroupResponse
	syncWaiter chan *kmsg.SyncGroupResponse
}

type protocol struct {
	name     string
	metadata []byte
}

func newGroup(c *Coordinator, id string, partition int32, now time.Time) *group {
	return &group{
		c:             c,
		id:            id,
		partition:     partition,
		state:         stateEmpty,
		stateSince:    now,
		members:       make(map[string]*member),
		staticMembers: make(map[string]string),
		pendingJoins:  make(map[string]time.Time),
		pendingSync:   make(map[string]struct{}),
		offsets:       newOffsetState(),
	}
}

// nextLogOrder returns the logOrder for the offset records of an append
// that just succeeded. Appends of one group are serialised by g.mu, so this
// follows the log.
func (g *group) nextLogOrder() int64 {
	g.lastLogOrder++
	return g.lastLogOrder
}

func (g *group) transition(to groupState, now time.Time) {
	g.state = to
	g.stateSince = now
}

func (g *group) is(states ...groupState) bool { return slices.Contains(states, g.state) }

// sortedMembers gives a deterministic order wherever Kafka's order is a
// hash map's (leader fallback, member lists).
func (g *group) sortedMembers() []*member {
	ms := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *member) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return ms
}

// staticMemberID returns the member id an instance id maps to, if any.
func (g *group) staticMemberID(instanceID string) (string, bool) {
	if instanceID == "" {
		return "", false
	}
	id, ok := g.staticMembers[instanceID]
	return id, ok
}

// rebalanceTimeout is the longest rebalance timeout among the members, as
// Kafka waits for the slowest member.
func (g *group) rebalanceTimeout() time.Duration {
	var longest time.Duration
	for _, m := range g.members {
		longest = max(longest, m.rebalanceTimeout)
	}
	return longest
}

// supportsProtocols reports whether a member with these protocols may join:
// an empty group takes any non-empty protocol list, otherwise the type must
// match and one protocol must be supported by every current member.
func (g *group) supportsProtocols(protocolType string, protocols []protocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(protocols) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protocols {
		if g.supportedByAll(p.name) {
			return true
		}
	}
	return false
}

func (g *group) supportedByAll(name string) bool {
	for _, m := range g.members {
		if m.metadataFor(name) == nil {
			return false
		}
	}
	return true
}

// selectProtocol picks the protocol of the next generation: among the
// protocols every member supports, each member votes for its most preferred
// one and the most votes win. Ties go to the smaller name so the choice is
// deterministic (Kafka's is arbitrary).
func (g *group) selectProtocol() string {
	votes := make(map[string]int)
	for _, m := range g.members {
		for _, p := range m.protocols {
			if g.supportedByAll(p.name) {
				votes[p.name]++
				break
			}
		}
	}
	var best string
	for name, n := range votes {
		if n > votes[best] || (n == votes[best] && name < best) {
			best = name
		}
	}
	return best
}

// metadataFor returns the member's metadata for a protocol, nil when the
// member does not support it. A supported protocol's metadata is never nil.
func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			if p.metadata == nil {
				return []byte{}
			}
			return p.metadata
		}
	}
	return nil
}

// sameProtocols reports whether a rejoin brings exactly the protocols the
// member last joined with, in which case Kafka need not rebalance for it.
func (m *member) sameProtocols(protocols []protocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b protocol) bool {
		return a.name == b.name && bytes.Equal(a.metadata, b.metadata)
	})
}

// addMember adds a new member, which the caller parks in JoinGroup.
func (g *group) addMember(m *member, now time.Time) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	if m.instanceID != "" {
		g.staticMembers[m.instanceID] = m.id
	}
	delete(g.pendingJoins, m.id)
	if g.is(statePreparingRebalance) && g.generation == 0 {
		g.newMemberAdded = true
	}
	m.isNew = true
	m.heartbeatDeadline = now.Add(newMemberJoinTimeout)
}

// removeMember drops a member, answering whatever it has parked with
// UNKNOWN_MEMBER_ID so that the client rejoins if it is still alive. It does
// not move the group's state; see removeMemberAndRebalance.
func (g *group) removeMember(m *member) {
	g.answerJoin(m, g.joinError("", kerr.UnknownMemberID))
	g.answerSync(m, g.syncError(kerr.UnknownMemberID))
	delete(g.members, m.id)
	delete(g.pendingSync, m.id)
	if id, ok := g.staticMemberID(m.instanceID); ok && id == m.id {
		delete(g.staticMembers, m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if rest := g.sortedMembers(); len(rest) > 0 {
			g.leader = rest[0].id
		}
	}
}

// replaceStaticMember moves a static member to a new member id, fencing any
// request the old id has parked.
func (g *group) replaceStaticMember(m *member, newID string) {
	g.answerJoin(m, g.joinError(m.id, kerr.FencedInstanceID))
	g.answerSync(m, g.syncError(kerr.FencedInstanceID))
	oldID := m.id
	delete(g.members, oldID)
	m.id = newID
	g.members[newID] = m
	g.staticMembers[m.instanceID] = newID
	if g.leader == oldID {
		g.leader = newID
	}
	if _, ok := g.pendingSync[oldID]; ok {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = struct{}{}
	}
}

// refreshSession restarts the member's session timeout (Kafka's
// completeAndScheduleNextHeartbeatExpiration).
func (m *member) refreshSession(now time.Time) {
	m.heartbeatDeadline = now.Add(m.sessionTimeout)
}

// alive reports whether the member's session holds at now. Members parked
// in a rebalance are alive regardless, except new ones, which may wait at
// most newMemberJoinTimeout.
func (m *member) alive(now time.Time) bool {
	if !m.isNew && (m.joinWaiter != nil || m.syncWaiter != nil) {
		return true
	}
	return now.Before(m.heartbeatDeadline)
}

func (g *group) allJoined() bool {
	if len(g.pendingJoins) > 0 {
		return false
	}
	for _, m := range g.members {
		if m.joinWaiter == nil {
			return false
		}
	}
	return true
}

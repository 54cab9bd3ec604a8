package group

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// memStore is an in-memory __consumer_offsets: a test double of the storage
// only. It keeps what a log would: each record with its batch's producer id
// and transactional bit, and transaction markers as records. failNext makes
// the next Append or AppendTxn fail without storing anything.
type memStore struct {
	mu         sync.Mutex
	partitions map[int32][]Record
	txnEpochs  []int16 // the epoch of each AppendTxn, in order
	failNext   error
	replayGate chan struct{} // when set, Replay waits for it to close
	// replayCopied, when set with replayGate, is closed once Replay has
	// taken the records it will replay and waits at the gate.
	replayCopied chan struct{}
}

func newMemStore() *memStore { return &memStore{partitions: make(map[int32][]Record)} }

func (s *memStore) Append(_ context.Context, partition int32, recs []Record) error {
	return s.append(partition, recs, -1, false)
}

func (s *memStore) AppendTxn(_ context.Context, partition int32, producerID int64, epoch int16, recs []Record) error {
	if err := s.append(partition, recs, producerID, true); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txnEpochs = append(s.txnEpochs, epoch)
	return nil
}

func (s *memStore) append(partition int32, recs []Record, producerID int64, transactional bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failNext; err != nil {
		s.failNext = nil
		return err
	}
	for _, r := range recs {
		s.partitions[partition] = append(s.partitions[partition], Record{
			Key: slices.Clone(r.Key), Value: slices.Clone(r.Value),
			ProducerID: producerID, Transactional: transactional,
		})
	}
	return nil
}

// writeMarker appends producerID's transaction marker, as the broker does
// for the transaction coordinator's WriteTxnMarkers.
func (s *memStore) writeMarker(partition int32, producerID int64, commit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partitions[partition] = append(s.partitions[partition], Record{
		ProducerID: producerID, Transactional: true, Marker: &Marker{Commit: commit},
	})
}

func (s *memStore) Replay(partition int32, fn func(Record) error) error {
	s.mu.Lock()
	gate, copied := s.replayGate, s.replayCopied
	recs := slices.Clone(s.partitions[partition])
	s.mu.Unlock()
	if gate != nil {
		if copied != nil {
			close(copied)
		}
		<-gate
	}
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) failNextAppend(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = err
}

// records returns the decoded kinds of everything appended for a group, to
// check what was persisted.
func (s *memStore) groupRecords(t *testing.T, partition int32, groupID string) (metadata []*kmsg.GroupMetadataValue, tombstones int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.partitions[partition] {
		if kind, _ := kindOf(r.Key); kind != kindGroup {
			continue
		}
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(r.Key); err != nil || k.Group != groupID {
			continue
		}
		if r.Value == nil {
			tombstones++
			continue
		}
		v := new(kmsg.GroupMetadataValue)
		if err := v.ReadFrom(r.Value); err != nil {
			t.Fatalf("stored group metadata does not decode: %v", err)
		}
		metadata = append(metadata, v)
	}
	return metadata, tombstones
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

const testPartitions = 3

type harness struct {
	t     *testing.T
	c     *Coordinator
	store *memStore
	clock *fakeClock
}

// newHarness starts a coordinator with an injected clock and no background
// sweep (tests call tick after moving the clock), owning every partition.
func newHarness(t *testing.T, tweak func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, store: newMemStore(), clock: &fakeClock{now: time.Unix(1_700_000_000, 0)}}
	cfg := Config{
		NumPartitions:           testPartitions,
		NoInitialRebalanceDelay: true,
		TickInterval:            time.Hour,
		Now:                     h.clock.Now,
		Logger:                  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	h.c = New(cfg, h.store)
	t.Cleanup(h.c.Close)
	for p := range int32(testPartitions) {
		if err := h.c.Load(p); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// advance moves the clock and runs the deadline sweep, as the background
// ticker would.
func (h *harness) advance(d time.Duration) {
	h.clock.Advance(d)
	h.c.tick()
}

func consumerMetadata(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

type joinOpts struct {
	version    int16
	memberID   string
	instanceID string
	protocols  []string // names, each with metadata subscribing to "t1"
	topics     []string
	session    time.Duration
	rebalance  time.Duration
}

func (h *harness) joinRequest(groupID string, o joinOpts) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = o.version
	if req.Version == 0 {
		req.Version = 5
	}
	req.Group = groupID
	req.MemberID = o.memberID
	req.InstanceID = optionalString(o.instanceID)
	req.ProtocolType = "consumer"
	req.SessionTimeoutMillis = 10_000
	if o.session != 0 {
		req.SessionTimeoutMillis = int32(o.session.Milliseconds())
	}
	req.RebalanceTimeoutMillis = 60_000
	if o.rebalance != 0 {
		req.RebalanceTimeoutMillis = int32(o.rebalance.Milliseconds())
	}
	protocols := o.protocols
	if protocols == nil {
		protocols = []string{"range"}
	}
	topics := o.topics
	if topics == nil {
		topics = []string{"t1"}
	}
	for _, name := range protocols {
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name = name
		p.Metadata = consumerMetadata(topics...)
		req.Protocols = append(req.Protocols, p)
	}
	return req
}

// joinAsync sends a JoinGroup that may park and returns where its answer
// will arrive.
func (h *harness) joinAsync(groupID string, o joinOpts) <-chan *kmsg.JoinGroupResponse {
	out := make(chan *kmsg.JoinGroupResponse, 1)
	req := h.joinRequest(groupID, o)
	go func() { out <- h.c.JoinGroup(context.Background(), Client{ID: "client", Host: "/127.0.0.1"}, req) }()
	return out
}

// join sends a JoinGroup that must be answered without parking.
func (h *harness) join(groupID string, o joinOpts) *kmsg.JoinGroupResponse {
	h.t.Helper()
	return h.receive(h.joinAsync(groupID, o))
}

// newMemberID runs the KIP-394 first join and returns the id to join with.
func (h *harness) newMemberID(groupID string) string {
	h.t.Helper()
	resp := h.join(groupID, joinOpts{})
	h.expectCode(resp.ErrorCode, kerr.MemberIDRequired)
	return resp.MemberID
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10s")
		panic("unreachable")
	}
}

func (h *harness) receive(ch <-chan *kmsg.JoinGroupResponse) *kmsg.JoinGroupResponse {
	h.t.Helper()
	return receive(h.t, ch)
}

// expectParked checks that nothing has arrived on ch yet.
func expectParked[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("expected the request to be parked, got %+v", v)
	default:
	}
}

func (h *harness) expectCode(got int16, want *kerr.Error) {
	h.t.Helper()
	if got != code(want) {
		h.t.Fatalf("error code %v, want %v", kerr.ErrorForCode(got), want)
	}
}

// waitFor polls a condition on coordinator state that a goroutine of the
// test is about to make true (a parked request reaching the group).
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// inspect runs fn on the group under its lock; fn gets nil when it is gone.
func (h *harness) inspect(groupID string, fn func(g *group)) {
	h.c.mu.Lock()
	g := h.c.groups[groupID]
	h.c.mu.Unlock()
	if g == nil {
		fn(nil)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g)
}

func (h *harness) state(groupID string) groupState {
	var s groupState = stateDead
	h.inspect(groupID, func(g *group) {
		if g != nil {
			s = g.state
		}
	})
	return s
}

func (h *harness) parkedJoins(groupID string) int {
	n := 0
	h.inspect(groupID, func(g *group) {
		if g == nil {
			return
		}
		for _, m := range g.members {
			if m.joinWaiter != nil {
				n++
			}
		}
	})
	return n
}

func (h *harness) sync(groupID, memberID string, generation int32, assignments map[string]string) <-chan *kmsg.SyncGroupResponse {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group = groupID
	req.MemberID = memberID
	req.Generation = generation
	for id, a := range assignments {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID = id
		ga.MemberAssignment = []byte(a)
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	out := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { out <- h.c.SyncGroup(context.Background(), req) }()
	return out
}

func (h *harness) heartbeat(groupID, memberID string, generation int32, instanceID string) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group = groupID
	req.MemberID = memberID
	req.Generation = generation
	req.InstanceID = optionalString(instanceID)
	return h.c.Heartbeat(context.Background(), req).ErrorCode
}

// stableMember is a member of a stable group as a client sees it.
type stableMember struct {
	id         string
	instanceID string
	generation int32
	assignment string
}

// formGroup builds a stable group of n members joining one after another,
// each join rebalancing the members already in (with no initial delay).
// The leader assigns "a-<member id>" to every member.
func (h *harness) formGroup(groupID string, n int, instanceIDs ...string) []*stableMember {
	h.t.Helper()
	var members []*stableMember
	for i := range n {
		o := joinOpts{}
		if i < len(instanceIDs) {
			o.instanceID = instanceIDs[i]
		} else {
			o.memberID = h.newMemberID(groupID)
		}
		pending := []<-chan *kmsg.JoinGroupResponse{h.joinAsync(groupID, o)}
		if len(members) > 0 {
			// The existing members learn of the rebalance and rejoin.
			h.waitFor("the new member to park", func() bool { return h.state(groupID) == statePreparingRebalance })
			for _, m := range members {
				h.expectCode(h.heartbeat(groupID, m.id, m.generation, m.instanceID), kerr.RebalanceInProgress)
				pending = append(pending, h.joinAsync(groupID, joinOpts{memberID: m.id, instanceID: m.instanceID}))
			}
		}
		var resps []*kmsg.JoinGroupResponse
		for _, ch := range pending {
			resp := h.receive(ch)
			h.expectCode(resp.ErrorCode, nil)
			resps = append(resps, resp)
		}
		members = members[:0]
		for _, r := range resps {
			members = append(members, &stableMember{id: r.MemberID, generation: r.Generation})
		}
		for _, m := range members {
			m.instanceID = h.instanceOf(groupID, m.id)
		}
		h.syncAll(groupID, members, resps)
	}
	return members
}

func (h *harness) instanceOf(groupID, memberID string) string {
	var inst string
	h.inspect(groupID, func(g *group) { inst = g.members[memberID].instanceID })
	return inst
}

// syncAll has every member send SyncGroup, the leader last with an
// assignment for everyone, and records what each member got.
func (h *harness) syncAll(groupID string, members []*stableMember, joins []*kmsg.JoinGroupResponse) {
	h.t.Helper()
	leader := joins[0].LeaderID
	var leaderIdx int
	pending := make(map[int]<-chan *kmsg.SyncGroupResponse)
	for i, m := range members {
		if m.id == leader {
			leaderIdx = i
			continue
		}
		pending[i] = h.sync(groupID, m.id, m.generation, nil)
	}
	assign := make(map[string]string)
	for _, m := range members {
		assign[m.id] = "a-" + m.id
	}
	pending[leaderIdx] = h.sync(groupID, leader, members[leaderIdx].generation, assign)
	for i, ch := range pending {
		resp := receive(h.t, ch)
		h.expectCode(resp.ErrorCode, nil)
		members[i].assignment = string(resp.MemberAssignment)
	}
}

func newLeave(groupID, memberID, instanceID string) *kmsg.LeaveGroupRequest {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version = 4
	req.Group = groupID
	m := kmsg.NewLeaveGroupRequestMember()
	m.MemberID = memberID
	m.InstanceID = optionalString(instanceID)
	req.Members = []kmsg.LeaveGroupRequestMember{m}
	return req
}

// leader returns the stable member that leads the group; its rejoin always
// triggers a rebalance.
func (h *harness) leader(groupID string, members []*stableMember) (leader, follower *stableMember) {
	var id string
	h.inspect(groupID, func(g *group) { id = g.leader })
	for _, m := range members {
		if m.id == id {
			leader = m
		} else {
			follower = m
		}
	}
	return leader, follower
}

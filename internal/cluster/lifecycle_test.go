package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fastSessions makes fencing quick enough for tests: heartbeats every 20 ms, fenced
// after 300 ms without one.
func fastSessions(c *Config) {
	c.HeartbeatInterval = 20 * time.Millisecond
	c.SessionTimeout = 300 * time.Millisecond
}

// fakeBroker is another broker talking to a node's controller through its handlers,
// as a remote broker's requests would.
type fakeBroker struct {
	t           *testing.T
	n           *Node
	id          int32
	incarnation UUID
	epoch       int64
}

func (b *fakeBroker) register(clusterID string) (int64, error) {
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.BrokerID, req.ClusterID, req.IncarnationID = b.id, clusterID, b.incarnation
	l := kmsg.NewBrokerRegistrationRequestListener()
	l.Name, l.Host, l.Port = "PLAINTEXT", "127.0.0.1", uint16(9000+b.id)
	// Nothing listens at port 1: the quorum adds the broker as a non-voter and its
	// replication to it fails quietly, which is all these tests need.
	ctrl := kmsg.NewBrokerRegistrationRequestListener()
	ctrl.Name, ctrl.Host, ctrl.Port = controllerListenerName, "127.0.0.1", 1
	req.Listeners = append(req.Listeners, l, ctrl)
	resp := b.n.HandleBrokerRegistration(ctx(b.t), req)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, err
	}
	b.epoch = resp.BrokerEpoch
	return resp.BrokerEpoch, nil
}

func (b *fakeBroker) heartbeat(offset int64, wantShutdown bool) (*kmsg.BrokerHeartbeatResponse, error) {
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.BrokerID, req.BrokerEpoch, req.CurrentMetadataOffset, req.WantShutdown = b.id, b.epoch, offset, wantShutdown
	resp := b.n.HandleBrokerHeartbeat(ctx(b.t), req)
	return resp, kerr.ErrorForCode(resp.ErrorCode)
}

// caughtUp is a heartbeat from a broker that has applied everything the node has.
func (b *fakeBroker) caughtUp() *kmsg.BrokerHeartbeatResponse {
	b.t.Helper()
	r, err := b.heartbeat(int64(b.n.Image().Version), false)
	if err != nil {
		b.t.Fatalf("heartbeat of broker %d: %v", b.id, err)
	}
	return r
}

func TestStartLeavesThisBrokerUnfencedAndHeartbeating(t *testing.T) {
	n := startNode(t, t.TempDir(), fastSessions)
	b := n.Image().Brokers[1]
	if b.Fenced || b.Epoch == 0 || n.epoch.Load() != b.Epoch {
		t.Fatalf("after Start: %+v, heartbeat epoch %d", b, n.epoch.Load())
	}
	// Several session timeouts later it is still unfenced: its heartbeats run.
	deadline := time.Now().Add(4 * n.cfg.SessionTimeout)
	for time.Now().Before(deadline) {
		if n.Image().Brokers[1].Fenced {
			t.Fatal("this node's broker was fenced although it heartbeats")
		}
		time.Sleep(n.cfg.HeartbeatInterval)
	}
}

func TestBrokerLifecycleOnTheController(t *testing.T) {
	n := startNode(t, t.TempDir(), fastSessions)
	clusterID := n.Image().ClusterID
	two := &fakeBroker{t: t, n: n, id: 2, incarnation: UUID{2}}

	if _, err := two.register("another-cluster"); !errors.Is(err, kerr.InconsistentClusterID) {
		t.Fatalf("registration with a foreign cluster id: %v", err)
	}
	epoch, err := two.register(clusterID)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := two.register(clusterID); err != nil || again != epoch {
		t.Fatalf("registering the same incarnation again: epoch %d, %v; want %d", again, err, epoch)
	}
	if b := n.Image().Brokers[2]; !b.Fenced || b.Epoch != epoch || b.Port != 9002 {
		t.Fatalf("registered broker: %+v", b)
	}

	// Behind on metadata: still fenced. Caught up: unfenced.
	if r, err := two.heartbeat(epoch-1, false); err != nil || r.IsCaughtUp || !r.IsFenced {
		t.Fatalf("heartbeat behind: %+v, %v", r, err)
	}
	if r := two.caughtUp(); !r.IsCaughtUp || r.IsFenced {
		t.Fatalf("heartbeat caught up: %+v", r)
	}
	if n.Image().Brokers[2].Fenced {
		t.Fatal("broker 2 still fenced in the image")
	}

	// While its session lives, another incarnation of id 2 is refused.
	impostor := &fakeBroker{t: t, n: n, id: 2, incarnation: UUID{22}}
	if _, err := impostor.register(clusterID); !errors.Is(err, kerr.DuplicateBrokerRegistration) {
		t.Fatalf("second incarnation while the first heartbeats: %v", err)
	}
	stale := &fakeBroker{t: t, n: n, id: 2, epoch: epoch - 1}
	if _, err := stale.heartbeat(0, false); !errors.Is(err, kerr.StaleBrokerEpoch) {
		t.Fatalf("heartbeat with an old epoch: %v", err)
	}
	unknown := &fakeBroker{t: t, n: n, id: 7, epoch: 1}
	if _, err := unknown.heartbeat(0, false); !errors.Is(err, kerr.BrokerIDNotRegistered) {
		t.Fatalf("heartbeat of an unregistered broker: %v", err)
	}

	// Broker 2 leads a partition, then its heartbeats stop: it is fenced and broker 1,
	// in sync, takes over.
	topic, err := n.CreateTopic(ctx(t), CreateTopicRequest{Name: "t", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{2, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "broker 2 is fenced after its session expired", func() bool { return n.Image().Brokers[2].Fenced })
	p := n.Image().TopicByID(topic.ID).Partitions[0]
	if p.Leader != 1 || p.LeaderEpoch != 1 || len(p.ISR) != 1 || p.ISR[0] != 1 {
		t.Fatalf("partition after broker 2 was fenced: %+v", p)
	}

	// Once its session has expired, a new incarnation may register; the old one's
	// heartbeats are then stale.
	newEpoch, err := impostor.register(clusterID)
	if err != nil || newEpoch <= epoch {
		t.Fatalf("new incarnation after the session expired: epoch %d, %v", newEpoch, err)
	}
	if _, err := two.heartbeat(int64(n.Image().Version), false); !errors.Is(err, kerr.StaleBrokerEpoch) {
		t.Fatalf("heartbeat of the replaced incarnation: %v", err)
	}
}

func TestControlledShutdownOfAnotherBroker(t *testing.T) {
	n := startNode(t, t.TempDir(), func(c *Config) {
		c.HeartbeatInterval = 20 * time.Millisecond
		c.SessionTimeout = time.Minute // no fencing by expiry in this test
	})
	two := &fakeBroker{t: t, n: n, id: 2, incarnation: UUID{2}}
	if _, err := two.register(n.Image().ClusterID); err != nil {
		t.Fatal(err)
	}
	two.caughtUp()
	shared, err := n.CreateTopic(ctx(t), CreateTopicRequest{Name: "shared", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{2, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	solo, err := n.CreateTopic(ctx(t), CreateTopicRequest{Name: "solo", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{2}}})
	if err != nil {
		t.Fatal(err)
	}
	leader := func(topic *Topic) int32 { return n.Image().TopicByID(topic.ID).Partitions[0].Leader }

	// Asked from an offset before the shutdown was recorded: not yet.
	before := int64(n.Image().Version)
	r, err := two.heartbeat(before, true)
	if err != nil || r.ShouldShutdown {
		t.Fatalf("first shutdown heartbeat: %+v, %v", r, err)
	}
	if leader(shared) != 1 || leader(solo) != 2 {
		t.Fatalf("leaders during the shutdown: %d and %d, want 1 (moved) and 2 (nobody else in sync)", leader(shared), leader(solo))
	}
	// Once it has seen the change, it may stop, and is fenced.
	r, err = two.heartbeat(int64(n.Image().Version), true)
	if err != nil || !r.ShouldShutdown || !r.IsFenced {
		t.Fatalf("shutdown heartbeat after catching up: %+v, %v", r, err)
	}
	if leader(solo) != -1 {
		t.Fatalf("the partition only broker 2 held is led by %d once it stopped", leader(solo))
	}
}

// A node's own controlled shutdown ends with its broker fenced; its restart registers
// a new incarnation at once (no wait for the old session) and leads its partitions again.
func TestControlledShutdownAndRestartOfThisNode(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, fastSessions)
	topic := create(t, n, "t", 1)
	first := n.Image().TopicByID(topic.ID).Partitions[0]

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.ControlledShutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	if !n.Image().Brokers[1].Fenced {
		t.Fatal("not fenced after its controlled shutdown")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	n = startNode(t, dir, fastSessions)
	if took := time.Since(began); took > n.cfg.StartTimeout {
		t.Fatalf("restart took %v", took)
	}
	p := n.Image().TopicByID(topic.ID).Partitions[0]
	if n.Image().Brokers[1].Fenced || p.Leader != 1 || p.LeaderEpoch <= first.LeaderEpoch {
		t.Fatalf("after the restart: broker %+v, partition %+v (was %+v)", n.Image().Brokers[1], p, first)
	}
}

// A new controller gives every broker a full session before fencing it, but an id it
// has not heard from in its term does not block a new incarnation of that id.
func TestSessionsOfANewTerm(t *testing.T) {
	img := threeBrokers(t)
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	s := newBrokerSessions(img, time.Second, clock)
	if !s.alive(1) || s.heardFrom(1) {
		t.Fatalf("at the term's start: alive %v, heard from %v; want alive, not heard from", s.alive(1), s.heardFrom(1))
	}
	s.touch(1, 5, 5)
	if !s.heardFrom(1) {
		t.Fatal("not heard from after a heartbeat")
	}
	now = now.Add(time.Second)
	if s.alive(1) || s.heardFrom(1) || s.alive(2) {
		t.Fatal("sessions outlive their timeout")
	}
	if b, _ := s.session(1); b.offset != 5 || !b.lastCaughtUp.Equal(time.Unix(1000, 0)) {
		t.Fatalf("session of broker 1: %+v", b)
	}
}

package cluster

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

// controllerAPIs serves a node's controller listener as a broker would (internal/broker
// does it with its own handler table): ApiVersions, BrokerRegistration, BrokerHeartbeat.
type controllerAPIs struct{ n *Node }

func (h controllerAPIs) Supported(key, version int16) bool {
	for _, k := range h.ApiVersions() {
		if k.ApiKey == key {
			return version >= k.MinVersion && version <= k.MaxVersion
		}
	}
	return false
}

func (h controllerAPIs) ApiVersions() []kmsg.ApiVersionsResponseApiKey {
	var keys []kmsg.ApiVersionsResponseApiKey
	for _, k := range []struct{ key, max int16 }{{int16(kmsg.ApiVersions), 3}, {int16(kmsg.BrokerRegistration), 4}, {int16(kmsg.BrokerHeartbeat), 1}} {
		v := kmsg.NewApiVersionsResponseApiKey()
		v.ApiKey, v.MaxVersion = k.key, k.max
		keys = append(keys, v)
	}
	return keys
}

func (h controllerAPIs) Handle(r *server.Request) server.Pending {
	return func() server.Reply {
		switch req := r.Msg.(type) {
		case *kmsg.ApiVersionsRequest:
			resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
			resp.ApiKeys = h.ApiVersions()
			return server.Reply{Msg: resp}
		case *kmsg.BrokerRegistrationRequest:
			return server.Reply{Msg: h.n.HandleBrokerRegistration(r.Conn.Done, req)}
		case *kmsg.BrokerHeartbeatRequest:
			return server.Reply{Msg: h.n.HandleBrokerHeartbeat(r.Conn.Done, req)}
		}
		return server.Reply{CloseAfter: true}
	}
}

// testQuorum is an in-process cluster: voters and non-voters, each with a controller
// listener on 127.0.0.1 whose Kafka side serves the controller APIs.
type testQuorum struct {
	t         *testing.T
	dir       string
	voters    []Voter
	listeners map[int32]*ControllerListener
	nodes     map[int32]*Node
	servers   map[int32]*server.Server
	stopped   map[int32]bool
	mu        sync.Mutex // guards servers while nodes start
}

func newTestQuorum(t *testing.T, voters, nonVoters int) *testQuorum {
	q := &testQuorum{t: t, dir: t.TempDir(), listeners: map[int32]*ControllerListener{}, nodes: map[int32]*Node{}, servers: map[int32]*server.Server{}, stopped: map[int32]bool{}}
	for id := int32(1); id <= int32(voters+nonVoters); id++ {
		l := q.listen(id)
		if id <= int32(voters) {
			q.voters = append(q.voters, Voter{ID: id, RaftAddr: l.Addr().String()})
		}
	}
	t.Cleanup(q.closeAll)
	return q
}

func (q *testQuorum) listen(id int32) *ControllerListener {
	addr := "127.0.0.1:0"
	if old := q.listeners[id]; old != nil {
		addr = old.Addr().String() // a restart binds the address the others know
	}
	l, err := ListenController(addr, slog.New(slog.NewTextHandler(testLogWriter{q.t}, nil)))
	if err != nil {
		q.t.Fatal(err)
	}
	q.listeners[id] = l
	return l
}

// start starts the given nodes at once (voters wait for each other to elect) and
// returns when all are registered and unfenced. Each serves its controller listener's
// Kafka side once its Start returns; until the controller's does, the others retry.
func (q *testQuorum) start(ids ...int32) {
	q.t.Helper()
	q.startAfter(nil, ids...)
}

// startAfter is start with node id's Start called delay[id] late.
func (q *testQuorum) startAfter(delay map[int32]time.Duration, ids ...int32) {
	q.t.Helper()
	var wg sync.WaitGroup
	nodes := make([]*Node, len(ids))
	errs := make([]error, len(ids))
	for i, id := range ids {
		if q.stopped[id] {
			q.listen(id)
			delete(q.stopped, id)
		}
		listener := q.listeners[id]
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(delay[id])
			n, err := Start(Config{
				NodeID: id, Dir: filepath.Join(q.dir, fmt.Sprint(id)), Host: "127.0.0.1", Port: 9000 + id,
				Controller: listener, Voters: q.voters,
				HeartbeatInterval: 50 * time.Millisecond, SessionTimeout: 1500 * time.Millisecond,
				StartTimeout: 20 * time.Second,
				Logger:       slog.New(slog.NewTextHandler(testLogWriter{q.t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
			})
			if err != nil {
				errs[i] = fmt.Errorf("node %d: %w", id, err)
				return
			}
			srv := server.New(server.DefaultConfig(), controllerAPIs{n})
			srv.Attach(n.controller.Kafka())
			go func() { _ = srv.Serve() }()
			nodes[i] = n
			q.mu.Lock()
			q.servers[id] = srv
			q.mu.Unlock()
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil {
			q.t.Fatal(errs[i])
		}
		q.nodes[id] = nodes[i]
	}
}

// stop closes a node as a crash would (no controlled shutdown); its port refuses
// connections until start binds it again.
func (q *testQuorum) stop(id int32) {
	q.t.Helper()
	q.servers[id].Close()
	_ = q.nodes[id].Close()
	delete(q.nodes, id)
	q.stopped[id] = true
}

func (q *testQuorum) closeAll() {
	for id, n := range q.nodes {
		q.servers[id].Close()
		_ = n.Close()
	}
	for _, l := range q.listeners {
		_ = l.Close()
	}
}

// converge waits until every running node's image satisfies cond.
func (q *testQuorum) converge(what string, cond func(img *Image) bool) {
	q.t.Helper()
	waitFor(q.t, what, func() bool {
		for _, n := range q.nodes {
			if !cond(n.Image()) {
				return false
			}
		}
		return true
	})
}

func (q *testQuorum) controller() *Node {
	q.t.Helper()
	var c *Node
	waitFor(q.t, "a controller is elected", func() bool {
		for _, n := range q.nodes {
			if n.sessions.Load() != nil {
				c = n
				return true
			}
		}
		return false
	})
	return c
}

func unfencedAre(ids ...int32) func(*Image) bool {
	return func(img *Image) bool { return slices.Equal(img.LiveBrokers(), ids) }
}

// Three voters and a non-voter form one cluster: every broker registers with whichever
// voter leads, the non-voter joins the quorum to follow the log, a crashed broker is
// fenced when its session expires and its partitions get new leaders, the quorum
// survives its controller's crash, and restarted nodes register new incarnations.
func TestQuorumOfThreeVotersAndANonVoter(t *testing.T) {
	q := newTestQuorum(t, 3, 1)
	q.start(1, 2, 3, 4)
	q.converge("four unfenced brokers everywhere", unfencedAre(1, 2, 3, 4))

	c := q.controller()
	topic, err := c.CreateTopic(ctx(t), CreateTopicRequest{Name: "spread", Partitions: -1, ReplicationFactor: -1,
		Assignment: [][]int32{{4, 1}, {2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	q.converge("every node sees the topic", func(img *Image) bool { return img.TopicByID(topic.ID) != nil })

	// The non-voter crashes: fenced, and partition 0 moves to broker 1.
	q.stop(4)
	q.converge("broker 4 fenced", unfencedAre(1, 2, 3))
	q.converge("partition 0 led by broker 1", func(img *Image) bool { return img.TopicByID(topic.ID).Partitions[0].Leader == 1 })

	// The controller crashes: the other voters elect a new one, which fences the old.
	old := c.NodeID()
	q.stop(old)
	next := q.controller()
	if next.NodeID() == old {
		t.Fatalf("node %d still controls after its crash", old)
	}
	var alive []int32
	for _, id := range []int32{1, 2, 3} {
		if id != old {
			alive = append(alive, id)
		}
	}
	q.converge(fmt.Sprintf("broker %d fenced by the new controller", old), unfencedAre(alive...))

	// Both come back as new incarnations and are unfenced.
	q.start(old, 4)
	q.converge("all four unfenced again", unfencedAre(1, 2, 3, 4))
	for id, n := range q.nodes {
		if got := n.Image().ControllerID; got != next.NodeID() {
			t.Errorf("node %d names controller %d, want %d", id, got, next.NodeID())
		}
	}
}

// A voter started long before the others keeps looking for a controller until they are
// up, instead of giving up at its first refused connection.
func TestVoterStartedFirstWaitsForTheOthers(t *testing.T) {
	q := newTestQuorum(t, 3, 0)
	q.startAfter(map[int32]time.Duration{2: 3 * time.Second, 3: 3 * time.Second}, 1, 2, 3)
	q.converge("three unfenced brokers", unfencedAre(1, 2, 3))
}

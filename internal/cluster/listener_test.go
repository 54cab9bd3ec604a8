package cluster

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func listenController(t *testing.T) *ControllerListener {
	t.Helper()
	l, err := ListenController("127.0.0.1:0", slog.New(slog.NewTextHandler(testLogWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// accept returns the next connection ln accepts, failing the test after 5 s.
func accept(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	got := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	select {
	case c := <-got:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("nothing accepted within 5s")
		return nil
	}
}

func roundTrip(t *testing.T, client, server net.Conn) {
	t.Helper()
	defer client.Close()
	defer server.Close()
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("server read %q, %v", buf, err)
	}
}

func TestControllerListenerSortsConnections(t *testing.T) {
	l := listenController(t)
	addr := l.Addr().String()

	kafka, err := DialController(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, kafka, accept(t, l.Kafka()))

	r, err := raftStream{l.raft, nil}.Dial(raft.ServerAddress(addr), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r, accept(t, l.raft))

	// A connection that is neither is closed without reaching either side.
	stranger, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if _, err := stranger.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = stranger.SetReadDeadline(time.Now().Add(5 * time.Second))
	// Closed with unread bytes, so an EOF or a reset; a timeout means it was kept open.
	var ne net.Error
	if n, err := stranger.Read(make([]byte, 1)); err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("stranger read %d bytes, err %v; want the connection closed", n, err)
	}

	// Closing one side ends its Accept and leaves the other side serving.
	if err := l.Kafka().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Kafka().Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	r, err = raftStream{l.raft, nil}.Dial(raft.ServerAddress(addr), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r, accept(t, l.raft))

	// Closing the listener closes the port: both Accepts end.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ln := range []net.Listener{l.Kafka(), l.raft} {
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the port still accepts after Close")
	}
}

// countingFSM counts the entries applied to it.
type countingFSM struct {
	mu sync.Mutex
	n  int
}

func (f *countingFSM) Apply(*raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return nil
}
func (f *countingFSM) count() int                          { f.mu.Lock(); defer f.mu.Unlock(); return f.n }
func (f *countingFSM) Snapshot() (raft.FSMSnapshot, error) { return nil, errors.New("not needed") }
func (f *countingFSM) Restore(io.ReadCloser) error         { return errors.New("not needed") }

// Three Raft voters over controller listeners elect a leader, replicate to both
// followers, and elect another leader when the first one stops.
func TestRaftQuorumOverControllerListeners(t *testing.T) {
	const voters = 3
	var servers []raft.Server
	var listeners []*ControllerListener
	for i := range voters {
		l := listenController(t)
		listeners = append(listeners, l)
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raftID(int32(i + 1)), Address: raft.ServerAddress(l.Addr().String())})
	}
	rafts := make([]*raft.Raft, voters)
	fsms := make([]*countingFSM, voters)
	for i := range voters {
		conf := raft.DefaultConfig()
		conf.LocalID = servers[i].ID
		conf.Logger = newRaftLogger(slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
		conf.HeartbeatTimeout, conf.ElectionTimeout = 200*time.Millisecond, 200*time.Millisecond
		conf.LeaderLeaseTimeout = 100 * time.Millisecond
		store := raft.NewInmemStore()
		snaps := raft.NewInmemSnapshotStore()
		transport := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: raftStream{listeners[i].raft, nil}, MaxPool: 2, Timeout: 2 * time.Second, Logger: conf.Logger})
		if err := raft.BootstrapCluster(conf, store, store, snaps, transport, raft.Configuration{Servers: servers}); err != nil {
			t.Fatal(err)
		}
		fsms[i] = &countingFSM{}
		r, err := raft.NewRaft(conf, fsms[i], store, store, snaps, transport)
		if err != nil {
			t.Fatal(err)
		}
		rafts[i] = r
		t.Cleanup(func() { _ = r.Shutdown().Error() })
	}

	leader := waitForLeader(t, rafts, -1)
	if err := rafts[leader].Apply([]byte("one"), 5*time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every voter applies the entry", func() bool {
		return fsms[0].count() == 1 && fsms[1].count() == 1 && fsms[2].count() == 1
	})

	if err := rafts[leader].Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	next := waitForLeader(t, rafts, leader)
	if err := rafts[next].Apply([]byte("two"), 5*time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	for i, f := range fsms {
		if i != leader {
			waitFor(t, fmt.Sprintf("voter %d applies the second entry", i+1), func() bool { return f.count() == 2 })
		}
	}
}

// waitForLeader returns the index of the raft that leads, skipping the one at skip,
// failing the test after 10 s.
func waitForLeader(t *testing.T, rafts []*raft.Raft, skip int) int {
	t.Helper()
	leader := -1
	waitFor(t, "a leader is elected", func() bool {
		for i, r := range rafts {
			if i != skip && r.State() == raft.Leader {
				leader = i
				return true
			}
		}
		return false
	})
	return leader
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

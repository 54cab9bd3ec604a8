package faults

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/peer"
)

// Links is the network between the nodes of an in-process cluster: every connection one
// node opens to another (replication fetches, controller requests, Raft) is dialled
// through it (broker.Config.Dial), so a test can cut a node off from its peers while its
// clients, which do not dial through Links, still reach it — the partition in which a
// deposed leader keeps acknowledging acks=1 writes that no follower will ever copy.
type Links struct {
	mu       sync.Mutex
	owners   map[string]int32 // listener address → node
	kafka    map[string]bool  // the addresses that are Kafka listeners (not Raft)
	isolated map[int32]bool
	slow     map[int32]*slowness
	conns    map[int32][]net.Conn // open connections by each end's node
}

// slowness holds a slow node's writes to other nodes' Kafka listeners back by delay, or
// until Heal closes healed.
type slowness struct {
	delay  time.Duration
	healed chan struct{}
}

// NewLinks returns links with every node reachable.
func NewLinks() *Links {
	return &Links{owners: map[string]int32{}, kafka: map[string]bool{}, isolated: map[int32]bool{},
		slow: map[int32]*slowness{}, conns: map[int32][]net.Conn{}}
}

// Own records that addrs are node's listeners, so that dials to them count as reaching
// node.
func (l *Links) Own(node int32, addrs ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range addrs {
		l.owners[a] = node
	}
}

// OwnKafka records that addr is node's Kafka listener (as Own does): the connections
// Slow holds back are those to such addresses, replication fetches, and not the
// metadata quorum's, so that a slow follower stays registered and unfenced.
func (l *Links) OwnKafka(node int32, addr string) {
	l.Own(node, addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kafka[addr] = true
}

// Dialer is node's dial function.
func (l *Links) Dialer(node int32) peer.DialFunc {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		l.mu.Lock()
		to, known := l.owners[addr]
		cut := l.isolated[node] || (known && l.isolated[to])
		l.mu.Unlock()
		if cut {
			return nil, fmt.Errorf("faults: node %d is cut off from %s", node, addr)
		}
		c, err := peer.DialTCP(addr, timeout)
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.isolated[node] || (known && l.isolated[to]) { // isolated while dialling
			c.Close()
			return nil, fmt.Errorf("faults: node %d is cut off from %s", node, addr)
		}
		lc := &linkConn{Conn: c, links: l, ends: []int32{node}, from: node, kafka: l.kafka[addr]}
		if known {
			lc.ends = append(lc.ends, to)
		}
		for _, end := range lc.ends {
			l.conns[end] = append(l.conns[end], lc)
		}
		return lc, nil
	}
}

// linkConn forgets itself when closed, so that Links holds only open connections.
type linkConn struct {
	net.Conn
	links *Links
	ends  []int32
	from  int32 // the node that dialled
	kafka bool  // to a Kafka listener
}

// Write holds a Fetch request back while the dialling node is slow: a follower's
// fetches then reach the leader late, as from a stalled replica, while its heartbeats
// keep it registered and its other requests (transaction markers, verifications) go on.
// A node's client writes each request frame whole: its API key follows the size.
func (c *linkConn) Write(b []byte) (int, error) {
	if c.kafka && len(b) >= 6 && int16(binary.BigEndian.Uint16(b[4:6])) == int16(kmsg.Fetch) {
		c.links.mu.Lock()
		s := c.links.slow[c.from]
		c.links.mu.Unlock()
		if s != nil {
			t := time.NewTimer(s.delay)
			select {
			case <-t.C:
			case <-s.healed:
				t.Stop()
			}
		}
	}
	return c.Conn.Write(b)
}

func (c *linkConn) Close() error {
	c.links.mu.Lock()
	for _, end := range c.ends {
		c.links.conns[end] = slices.DeleteFunc(c.links.conns[end], func(o net.Conn) bool { return o == net.Conn(c) })
	}
	c.links.mu.Unlock()
	return c.Conn.Close()
}

// Isolate cuts node off from every other node: open connections close and new ones fail,
// both ways, until Heal.
func (l *Links) Isolate(node int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.isolated[node] = true
	open := l.conns[node]
	l.conns[node] = nil
	l.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
	l.mu.Lock()
}

// Slow holds back the Fetch requests node sends to other nodes (its replication, as a
// follower) by delay each, until Heal: with a delay
// beyond replica.lag.time.max.ms the node falls out of the ISR of the partitions it
// follows, while it stays registered and unfenced.
func (l *Links) Slow(node int32, delay time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.slow[node]; old != nil {
		close(old.healed)
	}
	l.slow[node] = &slowness{delay: delay, healed: make(chan struct{})}
}

// Heal reconnects node and ends its slowness: writes held back go at once.
func (l *Links) Heal(node int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.isolated, node)
	if s := l.slow[node]; s != nil {
		close(s.healed)
		delete(l.slow, node)
	}
}

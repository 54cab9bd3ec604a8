package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/waybill/waybill/internal/peer"
)

// The controller listener (--controller-listen, Kafka's controller listener) is one TCP
// port for two kinds of traffic: the metadata quorum's Raft RPCs, and the controller's
// Kafka APIs that brokers call (BrokerRegistration, BrokerHeartbeat, AlterPartition). A
// dialer says which with the first byte it writes; both ends are Waybill, so the byte
// costs no client anything:
//
//	'R'  hashicorp/raft's network transport follows
//	'K'  Kafka request frames follow (size, header, body), answered as on any listener
const (
	streamRaft  byte = 'R'
	streamKafka byte = 'K'
)

// streamTagTimeout bounds how long an accepted connection may take to say what it is,
// so that a silent port scanner cannot hold a goroutine.
const streamTagTimeout = 10 * time.Second

// ControllerListener accepts connections on the controller port and sorts them by kind.
// Close it to stop accepting; connections already handed out are their owners'.
type ControllerListener struct {
	ln     net.Listener
	logger *slog.Logger
	raft   *subListener
	kafka  *subListener

	closeOnce sync.Once
	done      chan struct{}
}

// ListenController binds addr (host:port; port 0 picks a free one).
func ListenController(addr string, logger *slog.Logger) (*ControllerListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: controller listener: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	l := &ControllerListener{ln: ln, logger: logger, done: make(chan struct{})}
	l.raft = newSubListener(l)
	l.kafka = newSubListener(l)
	go l.acceptLoop()
	return l, nil
}

// Addr is the bound address.
func (l *ControllerListener) Addr() net.Addr { return l.ln.Addr() }

// Kafka is the listener of Kafka-protocol connections, for the broker's request server.
func (l *ControllerListener) Kafka() net.Listener { return l.kafka }

// Close stops accepting on the port and closes both sub-listeners.
func (l *ControllerListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.ln.Close()
	})
	return err
}

func (l *ControllerListener) acceptLoop() {
	var delay time.Duration
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.logger.Warn("controller listener: accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		go l.sort(conn)
	}
}

// sort reads the connection's tag and hands it to the matching sub-listener.
func (l *ControllerListener) sort(conn net.Conn) {
	var tag [1]byte
	_ = conn.SetReadDeadline(time.Now().Add(streamTagTimeout))
	_, err := conn.Read(tag[:])
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return
	}
	var sub *subListener
	switch tag[0] {
	case streamRaft:
		sub = l.raft
	case streamKafka:
		sub = l.kafka
	default:
		l.logger.Warn("controller listener: closing a connection of unknown kind", "remote", conn.RemoteAddr().String(), "first_byte", tag[0])
		conn.Close()
		return
	}
	select {
	case sub.conns <- conn:
	case <-sub.closed:
		conn.Close()
	case <-l.done:
		conn.Close()
	}
}

// subListener is one kind's view of the controller port. Closing it stops handing out
// that kind's connections (they are closed as they come); the port itself stays open
// until its owner closes the ControllerListener, so that closing the Kafka side's
// server never cuts the node's Raft.
type subListener struct {
	parent    *ControllerListener
	conns     chan net.Conn
	closeOnce sync.Once
	closed    chan struct{}
}

func newSubListener(parent *ControllerListener) *subListener {
	return &subListener{parent: parent, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.closed:
		return nil, net.ErrClosed
	case <-s.parent.done:
		return nil, net.ErrClosed
	}
}

func (s *subListener) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

func (s *subListener) Addr() net.Addr { return s.parent.Addr() }

// raftStream is the Raft side as hashicorp/raft's StreamLayer.
type raftStream struct {
	*subListener
	dial peer.DialFunc // nil: TCP
}

var _ raft.StreamLayer = raftStream{}

func (r raftStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return dialTagged(r.dial, string(address), streamRaft, timeout)
}

// DialController opens a Kafka-protocol connection to a controller port.
func DialController(addr string, timeout time.Duration) (net.Conn, error) {
	return dialTagged(nil, addr, streamKafka, timeout)
}

// controllerDialer is DialController over dial (nil: TCP).
func controllerDialer(dial peer.DialFunc) peer.DialFunc {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		return dialTagged(dial, addr, streamKafka, timeout)
	}
}

func dialTagged(dial peer.DialFunc, addr string, tag byte, timeout time.Duration) (net.Conn, error) {
	if dial == nil {
		dial = peer.DialTCP
	}
	conn, err := dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte{tag}); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetWriteDeadline(time.Time{})
	return conn, nil
}

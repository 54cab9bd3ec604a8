package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The controller's side of the broker lifecycle, Kafka's BrokerRegistration and
// BrokerHeartbeat (KIP-631): a broker registers each incarnation, fenced; its
// heartbeats unfence it once its metadata has caught up with its registration, keep its
// session alive, and ask for a controlled shutdown. A broker whose heartbeats stop for
// broker.session.timeout.ms is fenced, and the partitions it led get new leaders.
//
// Sessions are the controller's memory, not the log's: a new controller starts every
// registered broker with a full session, as Kafka's does.

// brokerSessions is what this controller heard from each broker during one term of
// leadership: when its heartbeats last arrived and how far its metadata had got.
type brokerSessions struct {
	timeout time.Duration
	now     func() time.Time

	mu       sync.Mutex
	brokers  map[int32]*brokerSession
	shutdown map[int32]int64 // metadata offset at which a controlled shutdown was recorded
}

// brokerSession is one broker's session as the controller sees it.
type brokerSession struct {
	heard        bool // reached this controller in this term; else lastContact is the term's start
	lastContact  time.Time
	offset       int64     // the metadata offset its last heartbeat reported; -1 before any
	lastCaughtUp time.Time // when its offset last reached the controller's
}

func newBrokerSessions(img *Image, timeout time.Duration, now func() time.Time) *brokerSessions {
	s := &brokerSessions{timeout: timeout, now: now, brokers: map[int32]*brokerSession{}, shutdown: map[int32]int64{}}
	for id := range img.Brokers {
		s.brokers[id] = &brokerSession{lastContact: now(), offset: -1}
	}
	return s
}

// touch records that broker id reached the controller: a registration (offset -1) or a
// heartbeat at its metadata offset, while the controller had applied up to applied.
func (s *brokerSessions) touch(id int32, offset, applied int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.brokers[id]
	if b == nil {
		b = &brokerSession{offset: -1}
		s.brokers[id] = b
	}
	b.heard, b.lastContact = true, s.now()
	if offset >= 0 {
		b.offset = offset
		if offset >= applied {
			b.lastCaughtUp = b.lastContact
		}
	}
}

// alive reports whether broker id heartbeated within the session timeout.
func (s *brokerSessions) alive(id int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.brokers[id]
	return ok && s.now().Sub(b.lastContact) < s.timeout
}

// heardFrom reports whether broker id reached this controller, in this term, within the
// session timeout. A broker this term has not heard from yet still has its session (the
// term's grace), but does not hold its id against a new incarnation: after a whole
// cluster restarts, nodes that could not finish a controlled shutdown come back at once
// instead of waiting out sessions nobody is using. A live old incarnation heartbeats
// within broker.heartbeat.interval.ms, and holds its id from then on.
func (s *brokerSessions) heardFrom(id int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.brokers[id]
	return ok && b.heard && s.now().Sub(b.lastContact) < s.timeout
}

// session is a copy of broker id's session; ok is false for a broker not heard of.
func (s *brokerSessions) session(id int32) (brokerSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.brokers[id]
	if !ok {
		return brokerSession{}, false
	}
	return *b, true
}

// HandleBrokerRegistration answers a BrokerRegistration on the controller. Errors:
// NOT_CONTROLLER (ask another voter), INCONSISTENT_CLUSTER_ID, DUPLICATE_BROKER_REGISTRATION
// (the id's earlier incarnation still heartbeats; retry once its session has expired).
// Registering the same incarnation again is answered with its epoch, so a retry after a
// lost answer is harmless.
func (n *Node) HandleBrokerRegistration(ctx context.Context, req *kmsg.BrokerRegistrationRequest) *kmsg.BrokerRegistrationResponse {
	resp := req.ResponseKind().(*kmsg.BrokerRegistrationResponse)
	resp.BrokerEpoch = -1
	epoch, err := n.registerIncarnation(ctx, req)
	if err != nil {
		n.logger.Warn("broker registration refused", "broker", req.BrokerID, "err", err)
		resp.ErrorCode = errorCode(err)
		return resp
	}
	resp.BrokerEpoch = epoch
	return resp
}

func (n *Node) registerIncarnation(ctx context.Context, req *kmsg.BrokerRegistrationRequest) (int64, error) {
	sessions := n.sessions.Load()
	if sessions == nil {
		return 0, errorf(kerr.NotController, "node %d is not the controller", n.cfg.NodeID)
	}
	img := n.Image()
	// A controller just elected may not have applied the log's start yet: the broker asks
	// again (NOT_CONTROLLER is retriable) rather than be told it belongs elsewhere.
	if img.ClusterID == "" {
		return 0, errorf(kerr.NotController, "node %d has not caught up with the metadata log yet", n.cfg.NodeID)
	}
	// A broker that has never caught up knows no cluster id yet; any other must match.
	if req.ClusterID != "" && req.ClusterID != img.ClusterID {
		return 0, errorf(kerr.InconsistentClusterID, "broker %d belongs to cluster %q, this is %q", req.BrokerID, req.ClusterID, img.ClusterID)
	}
	if b, ok := img.Brokers[req.BrokerID]; ok {
		if b.Incarnation == UUID(req.IncarnationID) {
			return b.Epoch, nil
		}
		// This process's own broker is the one incarnation of its id that can be alive:
		// the earlier one died with the process this controller replaced.
		ours := req.BrokerID == n.cfg.NodeID && UUID(req.IncarnationID) == n.incarnation
		if !b.Fenced && !ours && sessions.heardFrom(b.ID) {
			return 0, errorf(kerr.DuplicateBrokerRegistration, "broker %d is registered by another incarnation whose session has not expired", b.ID)
		}
	}
	if err := n.addNonvoter(req); err != nil {
		return 0, err
	}
	host, port := kafkaListener(req.Listeners)
	cmd := &registerBrokerCmd{ID: req.BrokerID, Host: host, Port: port, Incarnation: UUID(req.IncarnationID)}
	if req.Rack != nil {
		cmd.Rack = *req.Rack
	}
	result, err := n.propose(ctx, command{RegisterBroker: cmd})
	if err != nil {
		return 0, err
	}
	sessions.touch(req.BrokerID, -1, 0)
	n.logger.Info("broker registered", "broker", req.BrokerID, "epoch", result.brokerEpoch, "host", host, "port", port)
	return result.brokerEpoch, nil
}

// addNonvoter makes a registering broker that is not in the Raft configuration a
// non-voting member, at its controller listener, so that it receives the metadata log.
func (n *Node) addNonvoter(req *kmsg.BrokerRegistrationRequest) error {
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		return fmt.Errorf("reading the quorum's configuration: %w", err)
	}
	for _, s := range future.Configuration().Servers {
		if s.ID == raftID(req.BrokerID) {
			return nil
		}
	}
	var addr string
	for _, l := range req.Listeners {
		if l.Name == controllerListenerName {
			addr = net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
		}
	}
	if addr == "" {
		return errorf(kerr.InvalidRequest, "broker %d is not in the metadata quorum and names no %s listener to reach it at", req.BrokerID, controllerListenerName)
	}
	if err := n.raft.AddNonvoter(raftID(req.BrokerID), raft.ServerAddress(addr), 0, n.cfg.ProposeTimeout).Error(); err != nil {
		return errorf(kerr.NotController, "adding broker %d to the metadata quorum: %v", req.BrokerID, err)
	}
	n.logger.Info("broker joined the metadata quorum as a non-voter", "broker", req.BrokerID, "addr", addr)
	return nil
}

// kafkaListener is the address clients reach a broker at: its first listener that is
// not the controller's.
func kafkaListener(listeners []kmsg.BrokerRegistrationRequestListener) (string, int32) {
	for _, l := range listeners {
		if l.Name != controllerListenerName {
			return l.Host, int32(l.Port)
		}
	}
	return "", 0
}

// controllerListenerName names the controller listener in registrations, as Kafka's
// controller.listener.names does by default.
const controllerListenerName = "CONTROLLER"

// HandleBrokerHeartbeat answers a BrokerHeartbeat on the controller. Errors:
// NOT_CONTROLLER, BROKER_ID_NOT_REGISTERED, STALE_BROKER_EPOCH (a newer incarnation
// registered the id).
func (n *Node) HandleBrokerHeartbeat(ctx context.Context, req *kmsg.BrokerHeartbeatRequest) *kmsg.BrokerHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
	resp.IsFenced = true
	if err := n.heartbeat(ctx, req, resp); err != nil {
		if !errors.Is(err, kerr.NotController) {
			n.logger.Warn("broker heartbeat refused", "broker", req.BrokerID, "epoch", req.BrokerEpoch, "err", err)
		}
		resp.ErrorCode = errorCode(err)
	}
	return resp
}

func (n *Node) heartbeat(ctx context.Context, req *kmsg.BrokerHeartbeatRequest, resp *kmsg.BrokerHeartbeatResponse) error {
	sessions := n.sessions.Load()
	if sessions == nil {
		return errorf(kerr.NotController, "node %d is not the controller", n.cfg.NodeID)
	}
	b, err := brokerAt(n.Image(), req.BrokerID, req.BrokerEpoch)
	if err != nil {
		return err
	}
	sessions.touch(b.ID, req.CurrentMetadataOffset, int64(n.raft.AppliedIndex()))
	resp.IsCaughtUp = req.CurrentMetadataOffset >= b.Epoch
	switch {
	case req.WantShutdown:
		return n.shutDownBroker(ctx, sessions, b, req.CurrentMetadataOffset, resp)
	case b.Fenced && resp.IsCaughtUp && !req.WantFence:
		if _, err := n.propose(ctx, command{UnfenceBroker: &unfenceBrokerCmd{ID: b.ID, Epoch: b.Epoch}}); err != nil {
			return err
		}
		n.logger.Info("broker unfenced", "broker", b.ID, "epoch", b.Epoch)
	case !b.Fenced && req.WantFence:
		if _, err := n.propose(ctx, command{FenceBroker: &fenceBrokerCmd{ID: b.ID, Epoch: b.Epoch}}); err != nil {
			return err
		}
	}
	resp.IsFenced = n.Image().Brokers[b.ID].Fenced
	return nil
}

// shutDownBroker runs a controlled shutdown: leadership moves away first; once the broker
// has seen that change in its own metadata it may stop, and is fenced then.
func (n *Node) shutDownBroker(ctx context.Context, sessions *brokerSessions, b Broker, offset int64, resp *kmsg.BrokerHeartbeatResponse) error {
	if !b.Fenced && !b.ShuttingDown {
		if _, err := n.propose(ctx, command{ControlledShutdown: &controlledShutdownCmd{ID: b.ID, Epoch: b.Epoch}}); err != nil {
			return err
		}
		n.logger.Info("controlled shutdown started", "broker", b.ID)
	}
	// The broker may stop once its metadata has the leadership changes. A controller
	// elected during the shutdown does not know when they were recorded, only that they
	// are in what it has applied.
	sessions.mu.Lock()
	at, started := sessions.shutdown[b.ID]
	if !started {
		at, started = int64(n.Image().Version), true
		sessions.shutdown[b.ID] = at
	}
	sessions.mu.Unlock()
	if b.Fenced || (started && offset >= at) {
		resp.ShouldShutdown = true
		if !b.Fenced {
			if _, err := n.propose(ctx, command{FenceBroker: &fenceBrokerCmd{ID: b.ID, Epoch: b.Epoch}}); err != nil {
				return err
			}
			n.logger.Info("controlled shutdown done: broker fenced", "broker", b.ID)
		}
	}
	resp.IsFenced = n.Image().Brokers[b.ID].Fenced
	return nil
}

// fenceExpiredSessions fences every unfenced broker whose session has expired. The
// controller runs it periodically while it leads.
func (n *Node) fenceExpiredSessions(ctx context.Context, sessions *brokerSessions) {
	for _, b := range n.Image().SortedBrokers() {
		if b.Fenced || sessions.alive(b.ID) {
			continue
		}
		if _, err := n.propose(ctx, command{FenceBroker: &fenceBrokerCmd{ID: b.ID, Epoch: b.Epoch}}); err != nil {
			n.logger.Warn("could not fence a broker whose session expired", "broker", b.ID, "err", err)
			continue
		}
		n.logger.Warn("broker fenced: no heartbeat within broker.session.timeout.ms", "broker", b.ID, "epoch", b.Epoch, "timeout", sessions.timeout)
	}
}

// errorCode is the Kafka code of err: its own for an *Error, REQUEST_TIMED_OUT for a
// context's end, UNKNOWN_SERVER_ERROR otherwise.
func errorCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case errors.As(err, &ke):
		return ke.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut.Code
	}
	return kerr.UnknownServerError.Code
}

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/peer"
)

// controllerChannel carries controller API requests (BrokerRegistration,
// BrokerHeartbeat, forwarded metadata changes) from this node's broker to the
// controller: through this node's own handlers when it is the controller, else over the
// Kafka side of the voters' controller listeners, to the voter this node last knew as
// controller first. A voter that is not the controller answers NOT_CONTROLLER and the
// next one is asked.
type controllerChannel struct {
	n *Node

	mu      sync.Mutex
	clients map[int32]*peer.Client // by voter id, created on first use
}

// controllerAttemptTimeout bounds one request to one voter, so that a voter that does
// not answer (down, or not serving yet) costs a retry, not the caller's whole deadline.
const controllerAttemptTimeout = 2 * time.Second

func newControllerChannel(n *Node) *controllerChannel {
	return &controllerChannel{n: n, clients: map[int32]*peer.Client{}}
}

// send carries a request to the controller. build makes the request, afresh for every
// voter asked: the client stamps a version on it and may still hold an earlier
// attempt's after that attempt timed out.
func (c *controllerChannel) send(ctx context.Context, build func() kmsg.Request) (kmsg.Response, error) {
	if c.n.sessions.Load() != nil {
		return c.local(ctx, build())
	}
	return c.sendRemote(ctx, build)
}

// sendRemote asks the other voters only, for requests this node's own controller
// answers without a channel (the forwarded changes of forward.go, DescribeQuorum).
func (c *controllerChannel) sendRemote(ctx context.Context, build func() kmsg.Request) (kmsg.Response, error) {
	err := error(errorf(kerr.NotController, "no controller is known yet"))
	for _, v := range c.candidates() {
		attempt, cancel := context.WithTimeout(ctx, controllerAttemptTimeout)
		resp, sendErr := c.remote(attempt, v, build())
		cancel()
		if sendErr != nil {
			err = errorf(kerr.NotController, "controller candidate %d at %s: %v", v.ID, v.RaftAddr, sendErr)
			continue
		}
		if errors.Is(responseError(resp), kerr.NotController) {
			err = errorf(kerr.NotController, "voter %d is not the controller", v.ID)
			continue
		}
		return resp, nil
	}
	return nil, err
}

// local answers through this node's own controller handlers.
func (c *controllerChannel) local(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	switch r := req.(type) {
	case *kmsg.BrokerRegistrationRequest:
		return c.n.HandleBrokerRegistration(ctx, r), nil
	case *kmsg.BrokerHeartbeatRequest:
		return c.n.HandleBrokerHeartbeat(ctx, r), nil
	case *kmsg.AllocateProducerIDsRequest:
		return c.n.HandleAllocateProducerIDs(ctx, r), nil
	case *kmsg.AlterPartitionRequest:
		return c.n.HandleAlterPartition(ctx, r), nil
	}
	return nil, fmt.Errorf("cluster: no controller handler for %T", req)
}

// candidates are the other voters, the last known controller first.
func (c *controllerChannel) candidates() []Voter {
	controller := c.n.Image().ControllerID
	var first, rest []Voter
	for _, v := range c.n.cfg.Voters {
		switch {
		case v.ID == c.n.cfg.NodeID || v.RaftAddr == "":
		case v.ID == controller:
			first = append(first, v)
		default:
			rest = append(rest, v)
		}
	}
	return append(first, rest...)
}

func (c *controllerChannel) remote(ctx context.Context, v Voter, req kmsg.Request) (kmsg.Response, error) {
	c.mu.Lock()
	cl := c.clients[v.ID]
	if cl == nil {
		cl = peer.New(v.RaftAddr, fmt.Sprintf("waybill-broker-%d", c.n.cfg.NodeID), controllerDialer(c.n.cfg.Dial))
		c.clients[v.ID] = cl
	}
	c.mu.Unlock()
	return cl.Request(ctx, req)
}

func (c *controllerChannel) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, cl := range c.clients {
		cl.Close()
		delete(c.clients, id)
	}
}

func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := net.LookupPort("tcp", port)
	return host, p, err
}

// responseError is the error a controller API response carries: its top-level error,
// or for the forwarded changes, which go one topic or resource per request, that one's.
func responseError(resp kmsg.Response) error {
	switch r := resp.(type) {
	case *kmsg.BrokerRegistrationResponse:
		return kerr.ErrorForCode(r.ErrorCode)
	case *kmsg.BrokerHeartbeatResponse:
		return kerr.ErrorForCode(r.ErrorCode)
	case *kmsg.AllocateProducerIDsResponse:
		return kerr.ErrorForCode(r.ErrorCode)
	case *kmsg.AlterPartitionResponse:
		return kerr.ErrorForCode(r.ErrorCode)
	case *kmsg.DescribeQuorumResponse:
		return kerr.ErrorForCode(r.ErrorCode)
	case *kmsg.ElectLeadersResponse:
		// Elections go many partitions to a request: the top-level error is the
		// request's, and each partition's outcome is read by the caller.
		return answerError(r.ErrorCode, nil)
	case *kmsg.CreateTopicsResponse:
		return oneAnswer(len(r.Topics), func() (int16, *string) { return r.Topics[0].ErrorCode, r.Topics[0].ErrorMessage })
	case *kmsg.DeleteTopicsResponse:
		return oneAnswer(len(r.Topics), func() (int16, *string) { return r.Topics[0].ErrorCode, r.Topics[0].ErrorMessage })
	case *kmsg.CreatePartitionsResponse:
		return oneAnswer(len(r.Topics), func() (int16, *string) { return r.Topics[0].ErrorCode, r.Topics[0].ErrorMessage })
	case *kmsg.AlterConfigsResponse:
		return oneAnswer(len(r.Resources), func() (int16, *string) { return r.Resources[0].ErrorCode, r.Resources[0].ErrorMessage })
	case *kmsg.IncrementalAlterConfigsResponse:
		return oneAnswer(len(r.Resources), func() (int16, *string) { return r.Resources[0].ErrorCode, r.Resources[0].ErrorMessage })
	}
	return nil
}

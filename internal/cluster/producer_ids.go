package cluster

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AllocateProducerIDs reserves the next block of producer ids for this broker and
// returns its first id and size (ProducerIDBlockSize). Blocks never overlap and the
// counter never goes back, also across restarts: it lives in the metadata log. A broker
// that is not the controller asks the controller, with Kafka's AllocateProducerIds.
// Errors: BrokerIDNotRegistered, StaleBrokerEpoch (this broker re-registered meanwhile),
// NotController while no controller answers.
func (n *Node) AllocateProducerIDs(ctx context.Context) (first int64, count int32, err error) {
	epoch := n.Image().Brokers[n.cfg.NodeID].Epoch
	resp, err := n.channel.send(ctx, func() kmsg.Request {
		req := kmsg.NewPtrAllocateProducerIDsRequest()
		req.BrokerID, req.BrokerEpoch = n.cfg.NodeID, epoch
		return req
	})
	if err != nil {
		return 0, 0, err
	}
	r := resp.(*kmsg.AllocateProducerIDsResponse)
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		return 0, 0, errorf(err.(*kerr.Error), "allocating producer ids: %v", err)
	}
	return r.ProducerIDStart, r.ProducerIDLen, nil
}

// HandleAllocateProducerIDs answers AllocateProducerIds on the controller.
func (n *Node) HandleAllocateProducerIDs(ctx context.Context, req *kmsg.AllocateProducerIDsRequest) *kmsg.AllocateProducerIDsResponse {
	resp := req.ResponseKind().(*kmsg.AllocateProducerIDsResponse)
	if n.sessions.Load() == nil {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	result, err := n.propose(ctx, command{AllocateProducerIDs: &allocateProducerIDsCmd{
		BrokerID: req.BrokerID, BrokerEpoch: req.BrokerEpoch,
	}})
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	resp.ProducerIDStart, resp.ProducerIDLen = result.firstProducerID, ProducerIDBlockSize
	return resp
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

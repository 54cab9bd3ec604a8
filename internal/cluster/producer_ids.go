package cluster

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
)

// AllocateProducerIDs reserves the next block of producer ids for this broker and
// returns its first id and size (ProducerIDBlockSize). Blocks never overlap and the
// counter never goes back, also across restarts: it lives in the metadata log. Errors:
// BrokerIDNotRegistered, StaleBrokerEpoch (this broker re-registered meanwhile).
func (n *Node) AllocateProducerIDs(ctx context.Context) (first int64, count int32, err error) {
	b, ok := n.Image().Brokers[n.cfg.NodeID]
	if !ok {
		return 0, 0, errorf(kerr.BrokerIDNotRegistered, "broker %d is not registered", n.cfg.NodeID)
	}
	result, err := n.propose(ctx, command{AllocateProducerIDs: &allocateProducerIDsCmd{
		BrokerID: n.cfg.NodeID, BrokerEpoch: b.Epoch,
	}})
	if err != nil {
		return 0, 0, err
	}
	return result.firstProducerID, ProducerIDBlockSize, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

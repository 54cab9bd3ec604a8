package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"github.com/twmb/franz-go/pkg/kerr"
)

// propose appends c to the metadata log and waits until it is applied here, returning
// Apply's result. Errors:
//   - *Error from Apply when the command was refused (wraps its Kafka code);
//   - *Error wrapping kerr.NotController when this node is not (or stopped being) the
//     Raft leader: the caller should retry against the controller;
//   - *Error wrapping kerr.RequestTimedOut when ctx ends first. The command may still
//     commit afterwards: a timeout means "unknown outcome", as in Kafka.
func (n *Node) propose(ctx context.Context, c command) (applyResult, error) {
	if err := ctx.Err(); err != nil { // nothing proposed yet: the outcome is known
		return applyResult{}, errorf(kerr.RequestTimedOut, "metadata change not proposed: %v", err)
	}
	data, err := encodeCommand(c)
	if err != nil {
		return applyResult{}, fmt.Errorf("cluster: encoding command: %w", err)
	}
	enqueueTimeout := n.cfg.ProposeTimeout
	if deadline, ok := ctx.Deadline(); ok {
		enqueueTimeout = max(time.Until(deadline), time.Millisecond)
	}
	future := n.raft.Apply(data, enqueueTimeout)
	done := make(chan error, 1)
	go func() { done <- future.Error() }()

	select {
	case err = <-done:
	case <-ctx.Done():
		return applyResult{}, errorf(kerr.RequestTimedOut, "metadata change not confirmed before the deadline; it may still take effect: %v", ctx.Err())
	}
	switch {
	case err == nil:
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown):
		return applyResult{}, errorf(kerr.NotController, "node %d cannot change metadata: %v", n.cfg.NodeID, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return applyResult{}, errorf(kerr.RequestTimedOut, "metadata log busy: %v", err)
	default:
		return applyResult{}, fmt.Errorf("cluster: metadata log: %w", err)
	}
	result, ok := future.Response().(applyResult)
	if !ok {
		return applyResult{}, fmt.Errorf("cluster: unexpected apply response %T", future.Response())
	}
	return result, result.err
}

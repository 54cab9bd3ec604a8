package cluster

import (
	"maps"

	"github.com/twmb/franz-go/pkg/kerr"
)

// ProducerIDBlockSize is how many producer ids one AllocateProducerIDs hands out, as in
// Kafka.
const ProducerIDBlockSize = 1000

// applyResult is what FSM.Apply returns to the proposer through raft's ApplyFuture.
type applyResult struct {
	err             error // an *Error when the command was refused
	firstProducerID int64 // allocateProducerIds only
	brokerEpoch     int64 // registerBroker only
}

// applyCommand folds one command into img and returns the next image, or nil when the
// command changed nothing (refused, or a no-op). It is a pure function of its inputs:
// no clock, no randomness, no I/O, no node-local configuration, which is what makes
// every node's image the same. index is the command's Raft log index.
func applyCommand(img *Image, index uint64, c command) (*Image, applyResult) {
	switch {
	case c.InitCluster != nil:
		if img.ClusterID != "" {
			return nil, applyResult{}
		}
		next := img.withChanges(index)
		next.ClusterID = c.InitCluster.ClusterID
		return next, applyResult{}

	case c.ClaimController != nil:
		next := img.withChanges(index)
		next.ControllerID = c.ClaimController.NodeID
		next.ControllerEpoch++
		return next, applyResult{}

	case c.RegisterBroker != nil:
		return applyRegisterBroker(img, index, c.RegisterBroker)

	case c.CreateTopic != nil:
		t := c.CreateTopic.Topic
		if t == nil {
			return nil, applyResult{err: errorf(kerr.InvalidRequest, "createTopic without a topic")}
		}
		if err := validateNewTopic(img, t); err != nil {
			return nil, applyResult{err: err}
		}
		next := img.withChanges(index)
		next.putTopic(t)
		return next, applyResult{}

	case c.DeleteTopic != nil:
		t := img.TopicsByID[c.DeleteTopic.ID]
		if t == nil {
			return nil, applyResult{err: errorf(kerr.UnknownTopicID, "no topic has id %s", c.DeleteTopic.ID)}
		}
		if t.Internal {
			return nil, applyResult{err: internalTopicDeletion(t.Name)}
		}
		next := img.withChanges(index)
		delete(next.Topics, t.Name)
		delete(next.TopicsByID, t.ID)
		return next, applyResult{}

	case c.CreatePartitions != nil:
		t := img.TopicsByID[c.CreatePartitions.ID]
		if t == nil {
			return nil, applyResult{err: errorf(kerr.UnknownTopicID, "no topic has id %s", c.CreatePartitions.ID)}
		}
		if err := validateNewPartitions(img, len(t.Partitions), c.CreatePartitions.Partitions); err != nil {
			return nil, applyResult{err: err}
		}
		grown := *t
		grown.Partitions = append(t.Partitions[:len(t.Partitions):len(t.Partitions)], c.CreatePartitions.Partitions...)
		next := img.withChanges(index)
		next.putTopic(&grown)
		return next, applyResult{}

	case c.AlterTopicConfigs != nil:
		t := img.TopicsByID[c.AlterTopicConfigs.ID]
		if t == nil {
			return nil, applyResult{err: errorf(kerr.UnknownTopicID, "no topic has id %s", c.AlterTopicConfigs.ID)}
		}
		altered := *t
		altered.Configs = maps.Clone(c.AlterTopicConfigs.Configs)
		next := img.withChanges(index)
		next.putTopic(&altered)
		return next, applyResult{}

	case c.AllocateProducerIDs != nil:
		a := c.AllocateProducerIDs
		b, ok := img.Brokers[a.BrokerID]
		if !ok {
			return nil, applyResult{err: errorf(kerr.BrokerIDNotRegistered, "broker %d is not registered", a.BrokerID)}
		}
		if b.Epoch != a.BrokerEpoch {
			return nil, applyResult{err: errorf(kerr.StaleBrokerEpoch, "broker %d has epoch %d, not %d", a.BrokerID, b.Epoch, a.BrokerEpoch)}
		}
		next := img.withChanges(index)
		next.NextProducerID += ProducerIDBlockSize
		return next, applyResult{firstProducerID: img.NextProducerID}

	case c.FenceBroker != nil:
		return applyFenceBroker(img, index, c.FenceBroker)
	case c.UnfenceBroker != nil:
		return applyUnfenceBroker(img, index, c.UnfenceBroker)
	case c.ControlledShutdown != nil:
		return applyControlledShutdown(img, index, c.ControlledShutdown)
	case c.AlterPartition != nil:
		return applyAlterPartition(img, index, c.AlterPartition)
	case c.ElectLeader != nil:
		return applyElectLeader(img, index, c.ElectLeader)
	}
	return nil, applyResult{err: errorf(kerr.InvalidRequest, "metadata command names no operation")}
}

// internalTopicDeletion is the answer to deleting __consumer_offsets or
// __transaction_state. Kafka has no dedicated code for it; INVALID_REQUEST with a
// message says plainly that the request, not the caller's rights, is the problem.
func internalTopicDeletion(name string) error {
	return errorf(kerr.InvalidRequest, "topic %s is internal and cannot be deleted", name)
}

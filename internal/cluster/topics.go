package cluster

import (
	"context"
	"errors"
	"maps"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/config"
)

// Controller operations on topics. Each validates against the current image (so that
// validate-only requests and most errors are answered without touching the log),
// builds a deterministic command, proposes it and waits until it is applied here; the
// watchers have seen the change by the time the method returns. Errors wrap a kerr
// code (see Error); besides those listed, any proposal may fail with NotController or
// RequestTimedOut (see propose).

// CreateTopicRequest mirrors one topic of a CreateTopics request.
type CreateTopicRequest struct {
	Name              string
	Partitions        int32 // -1: num.partitions
	ReplicationFactor int16 // -1: default.replication.factor
	// Assignment optionally places replicas by hand: Assignment[i] lists partition i's
	// brokers, preferred leader first. Partitions and ReplicationFactor must then be -1.
	Assignment   [][]int32
	Configs      map[string]string // topic config overrides
	ValidateOnly bool
}

// CreateTopic creates a topic and returns it (for ValidateOnly, the topic it would
// create, with a zero ID). Errors: InvalidTopicException (bad name, or one that differs
// from an existing topic only by '.' versus '_'), TopicAlreadyExists, InvalidPartitions,
// InvalidReplicationFactor, InvalidReplicaAssignment, InvalidConfig, InvalidRequest.
// Names __consumer_offsets and __transaction_state make an internal topic, as in Kafka.
func (n *Node) CreateTopic(ctx context.Context, req CreateTopicRequest) (*Topic, error) {
	return n.createTopic(ctx, req, isInternalTopicName(req.Name))
}

func (n *Node) createTopic(ctx context.Context, req CreateTopicRequest, internal bool) (*Topic, error) {
	if err := ValidateTopicName(req.Name); err != nil {
		return nil, err
	}
	img := n.Image()
	if img.Topics[req.Name] != nil {
		return nil, errorf(kerr.TopicAlreadyExists, "topic %s already exists", req.Name)
	}
	partitions, err := n.initialPartitions(img, req)
	if err != nil {
		return nil, err
	}
	if _, err := config.ParseTopic(req.Configs, n.cfg.Defaults); err != nil {
		return nil, err
	}
	t := &Topic{Name: req.Name, ID: randomUUID(), Internal: internal, Partitions: partitions}
	if len(req.Configs) > 0 {
		t.Configs = maps.Clone(req.Configs)
	}
	if err := validateNewTopic(img, t); err != nil {
		return nil, err
	}
	if req.ValidateOnly {
		t.ID = UUID{}
		return t, nil
	}
	if n.sessions.Load() == nil {
		return n.forwardCreateTopic(ctx, req, t.Configs)
	}
	if _, err := n.propose(ctx, command{CreateTopic: &createTopicCmd{Topic: t}}); err != nil {
		return nil, err
	}
	return t, nil
}

func (n *Node) initialPartitions(img *Image, req CreateTopicRequest) ([]Partition, error) {
	if req.Assignment != nil {
		if req.Partitions != -1 || req.ReplicationFactor != -1 {
			return nil, errorf(kerr.InvalidRequest, "a manual assignment requires partitions and replication factor of -1")
		}
		if len(req.Assignment) == 0 {
			return nil, errorf(kerr.InvalidPartitions, "the manual assignment has no partitions")
		}
		return manualPartitions(req.Assignment)
	}
	count, rf := req.Partitions, req.ReplicationFactor
	if count == -1 {
		count = n.cfg.Defaults.NumPartitions
	}
	if rf == -1 {
		rf = n.cfg.Defaults.DefaultReplicationFactor
	}
	if count < 1 {
		return nil, errorf(kerr.InvalidPartitions, "number of partitions must be at least 1 (or -1 for num.partitions), not %d", req.Partitions)
	}
	if count > maxPartitionsPerTopic {
		return nil, errorf(kerr.InvalidPartitions, "%d partitions exceed Waybill's limit of %d per topic", count, maxPartitionsPerTopic)
	}
	if rf < 1 {
		return nil, errorf(kerr.InvalidReplicationFactor, "replication factor must be at least 1 (or -1 for default.replication.factor), not %d", req.ReplicationFactor)
	}
	return placeReplicas(img, 0, count, rf)
}

// CreateInternalTopic creates a compacted internal topic such as __consumer_offsets
// or __transaction_state, with Kafka's settings for it (replication factor and segment
// size from offsets.topic.* or transaction.state.log.*), overlaid by configs, and
// cleanup.policy=compact regardless. It returns TopicAlreadyExists when the topic is
// there already, which callers that "ensure" the topic treat as success.
func (n *Node) CreateInternalTopic(ctx context.Context, name string, partitions int32, configs map[string]string) (*Topic, error) {
	b := n.cfg.Defaults
	rf := b.DefaultReplicationFactor
	overrides := map[string]string{}
	switch name {
	case ConsumerOffsetsTopic:
		rf = b.OffsetsTopicReplicationFactor
		overrides[config.SegmentBytes] = itoa(int64(b.OffsetsTopicSegmentBytes))
		overrides[config.CompressionType] = config.CompressionProducer
	case TransactionStateTopic:
		rf = b.TransactionStateLogReplication
		overrides[config.SegmentBytes] = itoa(int64(b.TransactionStateLogSegmentBytes))
		overrides[config.MinInsyncReplicas] = itoa(int64(b.TransactionStateLogMinISR))
		overrides[config.UncleanLeaderElectionEnable] = "false"
	}
	maps.Copy(overrides, configs)
	overrides[config.CleanupPolicy] = config.CleanupPolicyCompact
	return n.createTopic(ctx, CreateTopicRequest{
		Name: name, Partitions: partitions, ReplicationFactor: rf, Configs: overrides,
	}, true)
}

// DeleteTopic deletes the named topic. Errors: UnknownTopicOrPartition;
// InvalidRequest for an internal topic.
func (n *Node) DeleteTopic(ctx context.Context, name string) error {
	t := n.Image().Topics[name]
	if t == nil {
		return errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", name)
	}
	err := n.deleteTopic(ctx, t)
	if errors.Is(err, kerr.UnknownTopicID) { // deleted meanwhile
		return errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", name)
	}
	return err
}

// DeleteTopicByID deletes the topic with the given id. Errors: UnknownTopicID;
// InvalidRequest for an internal topic.
func (n *Node) DeleteTopicByID(ctx context.Context, id UUID) error {
	t := n.Image().TopicsByID[id]
	if t == nil {
		return errorf(kerr.UnknownTopicID, "no topic has id %s", id)
	}
	return n.deleteTopic(ctx, t)
}

func (n *Node) deleteTopic(ctx context.Context, t *Topic) error {
	if t.Internal {
		return internalTopicDeletion(t.Name)
	}
	// By id, so that a topic deleted and re-created under the same name meanwhile is
	// not the one deleted.
	_, err := n.propose(ctx, command{DeleteTopic: &deleteTopicCmd{ID: t.ID}})
	return err
}

// CreatePartitions grows the named topic to total partitions, placing the new ones
// with the replication factor of partition 0. Errors: UnknownTopicOrPartition;
// InvalidPartitions when total does not exceed the current count;
// InvalidReplicationFactor when too few brokers are live.
func (n *Node) CreatePartitions(ctx context.Context, name string, total int32, validateOnly bool) error {
	img := n.Image()
	t := img.Topics[name]
	if t == nil {
		return errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", name)
	}
	current := int32(len(t.Partitions))
	switch {
	case total == current:
		return errorf(kerr.InvalidPartitions, "topic %s already has %d partitions", name, current)
	case total < current:
		return errorf(kerr.InvalidPartitions, "topic %s has %d partitions, more than the requested %d; partitions cannot be removed", name, current, total)
	case total > maxPartitionsPerTopic:
		return errorf(kerr.InvalidPartitions, "%d partitions exceed Waybill's limit of %d per topic", total, maxPartitionsPerTopic)
	}
	added, err := placeReplicas(img, current, total-current, int16(len(t.Partitions[0].Replicas)))
	if err != nil {
		return err
	}
	if err := validateNewPartitions(img, int(current), added); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	_, err = n.propose(ctx, command{CreatePartitions: &createPartitionsCmd{ID: t.ID, Partitions: added}})
	if errors.Is(err, kerr.UnknownTopicID) {
		return errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", name)
	}
	return err
}

// AlterTopicConfigs replaces the named topic's overrides with overrides (build them
// with config.ReplaceTopicConfigs or config.IncrementalAlterTopicConfigs). Errors:
// UnknownTopicOrPartition, InvalidConfig.
func (n *Node) AlterTopicConfigs(ctx context.Context, name string, overrides map[string]string, validateOnly bool) error {
	t := n.Image().Topics[name]
	if t == nil {
		return errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", name)
	}
	if _, err := config.ParseTopic(overrides, n.cfg.Defaults); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	_, err := n.propose(ctx, command{AlterTopicConfigs: &alterTopicConfigsCmd{ID: t.ID, Configs: maps.Clone(overrides)}})
	if errors.Is(err, kerr.UnknownTopicID) {
		return errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", name)
	}
	return err
}

// TopicConfig resolves a topic's effective configuration from its overrides and this
// node's broker defaults.
func (n *Node) TopicConfig(t *Topic) (config.Topic, error) {
	return config.ParseTopic(t.Configs, n.cfg.Defaults)
}

// BrokerConfig returns the broker configuration this node was started with.
func (n *Node) BrokerConfig() config.Broker { return n.cfg.Defaults }

package cluster

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
)

// Topic operations as any broker makes them for its clients. Each validates against
// this node's image (so that validate-only requests and most errors are answered without
// the controller), has the controller make the change (forward.go; the controller's own
// side is Controller) and returns once this node has applied it: the watchers have seen
// the change by the time the method returns. Errors wrap a kerr code (see Error);
// besides those listed, any change may fail with RequestTimedOut, whose outcome is
// unknown.

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
	t, err := n.newTopic(n.Image(), req, internal)
	if err != nil || req.ValidateOnly {
		return t, err
	}
	var created *Topic
	err = n.carryOut(ctx, change{
		what: "creating topic " + req.Name,
		atController: func(ctx context.Context) (err error) {
			created, err = n.Controller().createTopic(ctx, req, internal)
			return err
		},
		request: func() kmsg.Request { return createTopicsRequest(ctx, req, n.cfg.ProposeTimeout) },
		shown: func(resp kmsg.Response, img *Image) bool {
			created = img.TopicByID(resp.(*kmsg.CreateTopicsResponse).Topics[0].TopicID)
			return created != nil
		},
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// newTopic validates req against img and returns the topic it makes, with a fresh id,
// or for ValidateOnly a zero one.
func (n *Node) newTopic(img *Image, req CreateTopicRequest, internal bool) (*Topic, error) {
	if err := ValidateTopicName(req.Name); err != nil {
		return nil, err
	}
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
	}
	return t, nil
}

// createTopicsRequest is Kafka's CreateTopics for one topic, timed out with ctx.
func createTopicsRequest(ctx context.Context, req CreateTopicRequest, fallback time.Duration) *kmsg.CreateTopicsRequest {
	kreq := kmsg.NewPtrCreateTopicsRequest()
	kreq.TimeoutMillis = timeoutMillis(ctx, fallback)
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = req.Name, req.Partitions, req.ReplicationFactor
	for i, replicas := range req.Assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(i), replicas
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	for name, value := range req.Configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = name, kmsg.StringPtr(value)
		rt.Configs = append(rt.Configs, c)
	}
	kreq.Topics = append(kreq.Topics, rt)
	return kreq
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
// cleanup.policy=compact regardless. The replication factor is capped by the live
// brokers, and min.insync.replicas by the replication factor. It returns TopicAlreadyExists when the topic is
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
	// Kafka's replication factor of 3 is capped by the brokers there are, so that a
	// single node (or a cluster of two) still gets its coordinators; a replicated
	// internal topic then refuses acks=all writes with fewer than 2 in sync, and never
	// asks for more in sync than it has replicas.
	rf = max(1, min(rf, int16(len(n.Image().LiveBrokers()))))
	minISR := int64(1)
	if rf > 1 {
		minISR = 2
	}
	if v, ok := overrides[config.MinInsyncReplicas]; ok {
		if parsed, err := strconv.ParseInt(v, 10, 32); err == nil {
			minISR = parsed
		}
	}
	overrides[config.MinInsyncReplicas] = itoa(min(minISR, int64(rf)))
	return n.createTopic(ctx, CreateTopicRequest{
		Name: name, Partitions: partitions, ReplicationFactor: rf, Configs: overrides,
	}, true)
}

// DeleteTopic deletes the named topic. Errors: UnknownTopicOrPartition;
// InvalidRequest for an internal topic.
func (n *Node) DeleteTopic(ctx context.Context, name string) error {
	t, err := topicNamed(n.Image(), name)
	if err != nil {
		return err
	}
	return byName(name, n.deleteTopic(ctx, t))
}

// DeleteTopicByID deletes the topic with the given id. Errors: UnknownTopicID;
// InvalidRequest for an internal topic.
func (n *Node) DeleteTopicByID(ctx context.Context, id UUID) error {
	t, err := topicWithID(n.Image(), id)
	if err != nil {
		return err
	}
	return n.deleteTopic(ctx, t)
}

func (n *Node) deleteTopic(ctx context.Context, t *Topic) error {
	if t.Internal {
		return internalTopicDeletion(t.Name)
	}
	return n.carryOut(ctx, change{
		what: "deleting topic " + t.Name,
		// By id, so that a topic deleted and created again under the same name meanwhile
		// is not the one deleted.
		atController: func(ctx context.Context) error { return n.Controller().DeleteTopicByID(ctx, t.ID) },
		request: func() kmsg.Request {
			// Topic ids are in DeleteTopics from v6, which the controller listener serves.
			req := kmsg.NewPtrDeleteTopicsRequest()
			req.TimeoutMillis = timeoutMillis(ctx, n.cfg.ProposeTimeout)
			rt := kmsg.NewDeleteTopicsRequestTopic()
			rt.TopicID = t.ID
			req.Topics = append(req.Topics, rt)
			return req
		},
		shown: func(_ kmsg.Response, img *Image) bool { return img.TopicByID(t.ID) == nil },
	})
}

// CreatePartitions grows the named topic to total partitions, placing the new ones
// with the replication factor of partition 0. Errors: UnknownTopicOrPartition;
// InvalidPartitions when total does not exceed the current count;
// InvalidReplicationFactor when too few brokers are live.
func (n *Node) CreatePartitions(ctx context.Context, name string, total int32, validateOnly bool) error {
	if _, _, err := partitionsToAdd(n.Image(), name, total); err != nil || validateOnly {
		return err
	}
	return n.carryOut(ctx, change{
		what:         "adding partitions to topic " + name,
		atController: func(ctx context.Context) error { return n.Controller().CreatePartitions(ctx, name, total, false) },
		request: func() kmsg.Request {
			req := kmsg.NewPtrCreatePartitionsRequest()
			req.TimeoutMillis = timeoutMillis(ctx, n.cfg.ProposeTimeout)
			rt := kmsg.NewCreatePartitionsRequestTopic()
			rt.Topic, rt.Count = name, total
			req.Topics = append(req.Topics, rt)
			return req
		},
		// By name, as the controller looks the topic up; one deleted meanwhile is done.
		shown: func(_ kmsg.Response, img *Image) bool {
			t := img.Topics[name]
			return t == nil || len(t.Partitions) >= int(total)
		},
	})
}

// partitionsToAdd validates growing the named topic to total partitions in img and
// places the new ones.
func partitionsToAdd(img *Image, name string, total int32) (*Topic, []Partition, error) {
	t, err := topicNamed(img, name)
	if err != nil {
		return nil, nil, err
	}
	current := int32(len(t.Partitions))
	switch {
	case total == current:
		return nil, nil, errorf(kerr.InvalidPartitions, "topic %s already has %d partitions", name, current)
	case total < current:
		return nil, nil, errorf(kerr.InvalidPartitions, "topic %s has %d partitions, more than the requested %d; partitions cannot be removed", name, current, total)
	case total > maxPartitionsPerTopic:
		return nil, nil, errorf(kerr.InvalidPartitions, "%d partitions exceed Waybill's limit of %d per topic", total, maxPartitionsPerTopic)
	}
	added, err := placeReplicas(img, current, total-current, int16(len(t.Partitions[0].Replicas)))
	if err != nil {
		return nil, nil, err
	}
	if err := validateNewPartitions(img, int(current), added); err != nil {
		return nil, nil, err
	}
	return t, added, nil
}

// AlterTopicConfigs changes the named topic's overrides (ReplaceConfigs,
// IncrementalConfigs). Errors: UnknownTopicOrPartition, InvalidConfig, InvalidRequest.
func (n *Node) AlterTopicConfigs(ctx context.Context, name string, c ConfigChange, validateOnly bool) error {
	if _, _, err := n.configsAfter(n.Image(), name, c); err != nil || validateOnly {
		return err
	}
	return n.carryOut(ctx, change{
		what:         "altering the configs of topic " + name,
		atController: func(ctx context.Context) error { return n.Controller().AlterTopicConfigs(ctx, name, c, false) },
		request:      func() kmsg.Request { return c.request(name) },
		shown: func(_ kmsg.Response, img *Image) bool {
			t := img.Topics[name]
			return t == nil || c.shownIn(t.Configs, n.cfg.Defaults)
		},
	})
}

// configsAfter validates c on the named topic of img and returns the topic and the
// overrides it would have.
func (n *Node) configsAfter(img *Image, name string, c ConfigChange) (*Topic, map[string]string, error) {
	t, err := topicNamed(img, name)
	if err != nil {
		return nil, nil, err
	}
	next, err := c.apply(t.Configs, n.cfg.Defaults)
	return t, next, err
}

// topicNamed looks a topic up by name: UnknownTopicOrPartition if there is none.
func topicNamed(img *Image, name string) (*Topic, error) {
	if t := img.Topics[name]; t != nil {
		return t, nil
	}
	return nil, errorf(kerr.UnknownTopicOrPartition, "topic %s does not exist", name)
}

// topicWithID looks a topic up by id: UnknownTopicID if there is none.
func topicWithID(img *Image, id UUID) (*Topic, error) {
	if t := img.TopicsByID[id]; t != nil {
		return t, nil
	}
	return nil, errorf(kerr.UnknownTopicID, "no topic has id %s", id)
}

// byName turns UNKNOWN_TOPIC_ID, from a change made by id after a lookup by name, into
// what a request by name expects: the topic is gone (deleted meanwhile).
func byName(name string, err error) error {
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

package cluster

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// These checks are pure functions of an image and a proposal. Proposers run them to
// answer early (and for validate-only requests); Apply runs them again because the image
// may have changed between proposal and commit, and must decide the same way on every
// node.

const (
	maxTopicNameLength = 249
	// maxPartitionsPerTopic is a Waybill sanity bound (Kafka has none), so that a typo
	// cannot make every node allocate millions of partitions.
	maxPartitionsPerTopic = 100_000

	// Internal topic names, as in Kafka.
	ConsumerOffsetsTopic  = "__consumer_offsets"
	TransactionStateTopic = "__transaction_state"
	clusterMetadataTopic  = "__cluster_metadata"
)

func isInternalTopicName(name string) bool {
	return name == ConsumerOffsetsTopic || name == TransactionStateTopic
}

// ValidateTopicName applies Kafka's rules: 1..249 characters from [a-zA-Z0-9._-], not
// "." or "..". __cluster_metadata is reserved as in KRaft.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return errorf(kerr.InvalidTopicException, "topic name is empty")
	case name == "." || name == "..":
		return errorf(kerr.InvalidTopicException, "topic name cannot be %q", name)
	case len(name) > maxTopicNameLength:
		return errorf(kerr.InvalidTopicException, "topic name is %d characters long; the limit is %d", len(name), maxTopicNameLength)
	case name == clusterMetadataTopic:
		return errorf(kerr.InvalidRequest, "topic name %s is reserved for the metadata log", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errorf(kerr.InvalidTopicException, "topic name %q contains %q; allowed are ASCII letters, digits, '.', '_' and '-'", name, c)
		}
	}
	return nil
}

// collisionKey maps names that Kafka's metrics cannot tell apart ('.' and '_' both
// become '_') to the same key.
func collisionKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

// validateNewTopic checks that t can be added to img: a valid and free name that does
// not collide with another, a fresh id and a sound assignment.
func validateNewTopic(img *Image, t *Topic) error {
	if err := ValidateTopicName(t.Name); err != nil {
		return err
	}
	if img.Topics[t.Name] != nil {
		return errorf(kerr.TopicAlreadyExists, "topic %s already exists", t.Name)
	}
	key := collisionKey(t.Name)
	for name := range img.Topics {
		if collisionKey(name) == key {
			return errorf(kerr.InvalidTopicException, "topic %s collides with existing topic %s: '.' and '_' may not be the only difference", t.Name, name)
		}
	}
	if t.ID.IsZero() || img.TopicsByID[t.ID] != nil {
		return errorf(kerr.InvalidRequest, "topic id %s is zero or already in use", t.ID)
	}
	if len(t.Partitions) == 0 {
		return errorf(kerr.InvalidPartitions, "a topic needs at least one partition")
	}
	return validateNewPartitions(img, 0, t.Partitions)
}

// validateNewPartitions checks partitions to be appended after the first `from`
// existing ones: consecutive indexes, the partition count bound, and replicas that are
// registered brokers, each listed once.
func validateNewPartitions(img *Image, from int, partitions []Partition) error {
	if from+len(partitions) > maxPartitionsPerTopic {
		return errorf(kerr.InvalidPartitions, "%d partitions exceed Waybill's limit of %d per topic", from+len(partitions), maxPartitionsPerTopic)
	}
	for i, p := range partitions {
		if p.Index != int32(from+i) {
			return errorf(kerr.InvalidReplicaAssignment, "partition indexes must be consecutive from %d; found %d at position %d", from, p.Index, i)
		}
		if err := validateReplicas(img, p.Index, p.Replicas); err != nil {
			return err
		}
	}
	return nil
}

func validateReplicas(img *Image, partition int32, replicas []int32) error {
	if len(replicas) == 0 {
		return errorf(kerr.InvalidReplicaAssignment, "partition %d has no replicas", partition)
	}
	for i, id := range replicas {
		if _, ok := img.Brokers[id]; !ok {
			return errorf(kerr.InvalidReplicaAssignment, "partition %d is assigned to broker %d, which is not registered", partition, id)
		}
		if slices.Contains(replicas[:i], id) {
			return errorf(kerr.InvalidReplicaAssignment, "partition %d lists broker %d twice", partition, id)
		}
	}
	return nil
}

package cluster

import (
	"maps"
	"slices"
	"sort"
)

// Image is an immutable view of the cluster metadata as of one point in the metadata
// log. The node swaps in a new Image after every applied change; readers load it
// without locks and may keep it as long as they like.
//
// Contract: nothing reachable from an Image may be modified, by its users or by this
// package (the FSM copies what it changes). Maps and slices are shared between
// successive images.
type Image struct {
	// Version is the Raft log index of the last change folded into this image. It only
	// grows, also across restarts (an image rebuilt from the log has the same version).
	Version uint64

	ClusterID       string // Kafka-style 22-character id chosen at bootstrap
	ControllerID    int32  // node that last claimed the controller role; -1 before any
	ControllerEpoch int32  // incremented by every claim

	Brokers    map[int32]Broker
	Topics     map[string]*Topic
	TopicsByID map[UUID]*Topic

	// NextProducerID is the first producer id of the next block handed out.
	NextProducerID int64
}

// Broker is a registered broker.
type Broker struct {
	ID   int32  `json:"id"`
	Host string `json:"host"`
	Port int32  `json:"port"`
	Rack string `json:"rack,omitempty"`
	// Incarnation is chosen by the broker at each start; a new one replaces an old
	// registration of the same id.
	Incarnation UUID `json:"incarnation"`
	// Epoch is the log index of the registration, as Kafka's broker epoch is the offset
	// of the registration record: it grows with every re-registration.
	Epoch int64 `json:"epoch"`
	// Fenced brokers lead nothing, are in no ISR (unless they were its last member) and
	// take no new partitions: the controller fences a broker whose heartbeats stopped.
	Fenced bool `json:"fenced,omitempty"`
	// ShuttingDown marks a controlled shutdown: leadership has moved away and the broker
	// joins no ISR until it registers again (KIP-841).
	ShuttingDown bool `json:"shuttingDown,omitempty"`
}

// Topic is a topic and its partitions.
type Topic struct {
	Name       string            `json:"name"`
	ID         UUID              `json:"id"`
	Internal   bool              `json:"internal,omitempty"`
	Partitions []Partition       `json:"partitions"`        // Partitions[i].Index == i
	Configs    map[string]string `json:"configs,omitempty"` // overrides only
}

// Partition is one partition's assignment and leadership.
type Partition struct {
	Index       int32   `json:"index"`
	Leader      int32   `json:"leader"` // -1: no leader
	LeaderEpoch int32   `json:"leaderEpoch"`
	Replicas    []int32 `json:"replicas"` // the first is the preferred leader
	ISR         []int32 `json:"isr"`
	// PartitionEpoch grows with every change to the partition (leader, ISR,
	// replicas), as in KRaft; AlterPartition requests will be checked against it.
	PartitionEpoch int32 `json:"partitionEpoch"`
}

func emptyImage() *Image {
	return &Image{
		ControllerID: -1,
		Brokers:      map[int32]Broker{},
		Topics:       map[string]*Topic{},
		TopicsByID:   map[UUID]*Topic{},
	}
}

// Topic returns the named topic, or nil.
func (img *Image) Topic(name string) *Topic { return img.Topics[name] }

// TopicByID returns the topic with the given id, or nil.
func (img *Image) TopicByID(id UUID) *Topic { return img.TopicsByID[id] }

// TopicNames returns the names of all topics, sorted.
func (img *Image) TopicNames() []string {
	names := slices.Collect(maps.Keys(img.Topics))
	sort.Strings(names)
	return names
}

// SortedBrokers returns the registered brokers ordered by id.
func (img *Image) SortedBrokers() []Broker {
	brokers := slices.Collect(maps.Values(img.Brokers))
	slices.SortFunc(brokers, func(a, b Broker) int { return int(a.ID) - int(b.ID) })
	return brokers
}

// LiveBrokers returns the ids of registered, unfenced brokers that are not shutting
// down, sorted: those that can take new partitions.
func (img *Image) LiveBrokers() []int32 {
	var ids []int32
	for id := range img.Brokers {
		if img.eligible(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// withChanges returns a copy of img that the FSM may change: the top-level maps are
// new, the topics and brokers in them are still shared and must be replaced, not
// modified.
func (img *Image) withChanges(version uint64) *Image {
	next := *img
	next.Version = version
	next.Brokers = maps.Clone(img.Brokers)
	next.Topics = maps.Clone(img.Topics)
	next.TopicsByID = maps.Clone(img.TopicsByID)
	return &next
}

func (img *Image) putTopic(t *Topic) {
	img.Topics[t.Name] = t
	img.TopicsByID[t.ID] = t
}

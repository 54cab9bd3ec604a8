package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Command encoding. Each Raft log entry of type LogCommand holds one JSON object:
//
//	{"v":1,"initCluster":{"clusterId":"..."}}
//	{"v":1,"claimController":{"nodeId":1}}
//	{"v":1,"registerBroker":{"id":1,"host":"...","port":9092,"incarnation":"..."}}
//	{"v":1,"createTopic":{"topic":{"name":"t","id":"...","partitions":[...],"configs":{...}}}}
//	{"v":1,"deleteTopic":{"id":"..."}}
//	{"v":1,"createPartitions":{"id":"...","partitions":[...]}}
//	{"v":1,"alterTopicConfigs":{"id":"...","configs":{...}}}
//	{"v":1,"allocateProducerIds":{"brokerId":1,"brokerEpoch":12}}
//	{"v":1,"fenceBroker":{"id":2,"epoch":12}}
//	{"v":1,"unfenceBroker":{"id":2,"epoch":12}}
//	{"v":1,"controlledShutdown":{"id":2,"epoch":12}}
//	{"v":1,"alterPartition":{"brokerId":1,"brokerEpoch":12,"topicId":"...","partition":0,
//	                         "leaderEpoch":3,"partitionEpoch":7,"isr":[1,3]}}
//	{"v":1,"electLeader":{"topicId":"...","partition":0,"unclean":true}}
//
// Exactly one member besides "v" is set. Ids are Kafka's 22-character base64url form.
// JSON is chosen over a compact binary form because metadata changes are rare and
// small, and a readable log is worth more than the bytes (`raft.db` can be dumped and
// read). "v" is bumped only for a change that an older node could misread; a node that
// meets a version it does not know fails that entry loudly instead of guessing.
//
// Everything nondeterministic (random ids, replica placement, the current image the
// proposer validated against) is decided by the proposer and carried in the command,
// so that every node's Apply computes the same image.
const commandVersion = 1

type command struct {
	V                   int                     `json:"v"`
	InitCluster         *initClusterCmd         `json:"initCluster,omitempty"`
	ClaimController     *claimControllerCmd     `json:"claimController,omitempty"`
	RegisterBroker      *registerBrokerCmd      `json:"registerBroker,omitempty"`
	CreateTopic         *createTopicCmd         `json:"createTopic,omitempty"`
	DeleteTopic         *deleteTopicCmd         `json:"deleteTopic,omitempty"`
	CreatePartitions    *createPartitionsCmd    `json:"createPartitions,omitempty"`
	AlterTopicConfigs   *alterTopicConfigsCmd   `json:"alterTopicConfigs,omitempty"`
	AllocateProducerIDs *allocateProducerIDsCmd `json:"allocateProducerIds,omitempty"`
	FenceBroker         *fenceBrokerCmd         `json:"fenceBroker,omitempty"`
	UnfenceBroker       *unfenceBrokerCmd       `json:"unfenceBroker,omitempty"`
	ControlledShutdown  *controlledShutdownCmd  `json:"controlledShutdown,omitempty"`
	AlterPartition      *alterPartitionCmd      `json:"alterPartition,omitempty"`
	ElectLeader         *electLeaderCmd         `json:"electLeader,omitempty"`
}

// initClusterCmd records the cluster id. The first one in the log wins; later ones are
// no-ops, so two nodes racing to initialise cannot produce two ids.
type initClusterCmd struct {
	ClusterID string `json:"clusterId"`
}

// claimControllerCmd is written by a node that has just become Raft leader, as KRaft
// writes a LeaderChange record: the image then names the controller, and its epoch
// tells later requests apart from those of an older controller.
type claimControllerCmd struct {
	NodeID int32 `json:"nodeId"`
}

type registerBrokerCmd struct {
	ID          int32  `json:"id"`
	Host        string `json:"host"`
	Port        int32  `json:"port"`
	Rack        string `json:"rack,omitempty"`
	Incarnation UUID   `json:"incarnation"`
}

// createTopicCmd carries the whole topic as the proposer built it: id, assignment,
// leaders (the first replica), ISR (all replicas) and config overrides.
type createTopicCmd struct {
	Topic *Topic `json:"topic"`
}

type deleteTopicCmd struct {
	ID UUID `json:"id"`
}

// createPartitionsCmd appends partitions; their indexes must continue the topic's.
type createPartitionsCmd struct {
	ID         UUID        `json:"id"`
	Partitions []Partition `json:"partitions"`
}

// alterTopicConfigsCmd replaces the topic's override map.
type alterTopicConfigsCmd struct {
	ID      UUID              `json:"id"`
	Configs map[string]string `json:"configs"`
}

type allocateProducerIDsCmd struct {
	BrokerID    int32 `json:"brokerId"`
	BrokerEpoch int64 `json:"brokerEpoch"`
}

func encodeCommand(c command) ([]byte, error) {
	c.V = commandVersion
	return json.Marshal(c)
}

var errMalformedCommand = errors.New("cluster: malformed metadata command")

func decodeCommand(data []byte) (command, error) {
	var c command
	if err := json.Unmarshal(data, &c); err != nil {
		return command{}, fmt.Errorf("%w: %v", errMalformedCommand, err)
	}
	if c.V != commandVersion {
		return command{}, fmt.Errorf("%w: version %d, this node knows %d", errMalformedCommand, c.V, commandVersion)
	}
	return c, nil
}

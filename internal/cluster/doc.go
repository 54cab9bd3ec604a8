// Package cluster is the metadata quorum and the controller: a Raft log
// (hashicorp/raft, stored in raft-boltdb) of metadata commands, applied on every node
// to an immutable Image that readers load without locks.
//
// A single node bootstraps a quorum of one and is its own controller; there is no
// separate standalone mode. In a cluster, Config.Voters and Config.RaftAddr select the
// voters and the TCP transport of the controller listener; the Raft leader is the
// controller and claims its role in the log on every election. Brokers register and
// heartbeat with it (BrokerRegistration, BrokerHeartbeat), partition leaders send it
// their ISR changes (AlterPartition), and other brokers forward topic changes to it;
// it fences brokers whose sessions expire, moves their leaderships, elects unclean
// leaders where a topic allows it and moves leadership back to preferred replicas.
// This node's own broker goes through the same handlers.
//
// Files, one job each:
//
//	node.go         Start, Close, Image, Watch, Ready: raft setup and leadership
//	propose.go      proposing a command and waiting for its result
//	topics.go       CreateTopic, DeleteTopic, CreatePartitions, AlterTopicConfigs, ...
//	                as any broker makes them for its clients
//	controller_topics.go  the same on the controller (Controller), which makes them
//	topic_configs.go      ConfigChange: AlterConfigs and IncrementalAlterConfigs
//	forward.go      carrying a change to the controller and waiting until it shows here
//	channel.go      requests to the controller over the voters' controller listeners
//	producer_ids.go AllocateProducerIDs
//	placement.go    replica placement (proposer side, may be random)
//	validate.go     checks shared by proposers and Apply
//	commands.go     the command encoding (documented there)
//	apply.go        applyCommand: the pure state transition
//	apply_brokers.go   fencing, unfencing, controlled shutdown
//	apply_partitions.go AlterPartition (ISR changes) and leader elections
//	election.go     who may lead or join an ISR, shared by the two above
//	fsm.go          raft.FSM: Apply, Snapshot, Restore, publishing to watchers
//	snapshot.go     the snapshot encoding
//	image.go        Image, Broker, Topic, Partition
//	raftlog.go      raft's hclog output adapted to slog
//	listener.go     the controller listener: Raft and the controller's Kafka APIs on one port
//	controller_brokers.go  the controller's side: registrations, heartbeats, sessions
//	lifecycle.go    the broker's side: register, heartbeat, controlled shutdown
//	controller_alter_partition.go  AlterPartition on the controller
//	unclean.go      unclean elections for offline partitions that allow them
//	elect_leaders.go  ElectLeaders: preferred and unclean elections on demand
//	leader_balance.go auto.leader.rebalance.enable: preferred leaders back in place
//	describe_quorum.go DescribeQuorum
//	errors.go, uuid.go  Kafka-coded errors, topic and cluster ids
//
// Determinism: everything random or node-local (topic ids, the cluster id, broker
// incarnations, replica placement, config validation against this node's broker
// defaults) happens in the proposer and is carried in the command; Apply is a pure
// function of the previous image and the command, so all nodes compute equal images.
//
// Errors: operations return *Error, which wraps the kerr code a Kafka response should
// carry (errors.Is(err, kerr.TopicAlreadyExists)) and whose message fits the
// response's error_message. Config errors are config.Error and wrap kerr.InvalidConfig.
package cluster

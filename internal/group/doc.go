// Package group is Waybill's classic consumer group coordinator: the broker
// side of JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
// TxnOffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups and
// OffsetDelete, behaving as Apache Kafka's GroupCoordinator does for
// group.protocol=classic (including KIP-345 static membership, KIP-394
// member ids, and KIP-98/KIP-447 transactional offset commits). KIP-848
// consumer groups are out of scope.
//
// # Ownership
//
// A group belongs to partition PartitionFor(groupID) of __consumer_offsets.
// The broker calls Load when it becomes leader of such a partition and Unload
// when it stops being leader. Requests for a group whose partition is not
// loaded get NOT_COORDINATOR, and COORDINATOR_LOAD_IN_PROGRESS while it loads.
//
// # Persistence
//
// State is written through Store, using Kafka's own __consumer_offsets record
// schemas so that Kafka tooling can read the partition:
//
//	key                                  value
//	OffsetCommitKey   v1 (group,topic,p)  OffsetCommitValue  v3, nil = offset deleted
//	GroupMetadataKey  v2 (group)          GroupMetadataValue v3, nil = group deleted
//
// The first int16 of a key is its version and tells the two apart (0 and 1:
// offset commit, 2: group metadata); other key versions (KIP-848 records) are
// skipped on replay. Group metadata is written after each completed rebalance
// (when the leader's SyncGroup brings the assignment, or when a rebalance ends
// with no members) and when a static member is replaced; offsets on commit.
// Offsets of a deleted topic are tombstoned when the broker reports the
// deletion and when a partition loads (topic_deletion.go).
// Nothing is applied in memory unless its Append succeeded, except the
// background write of an empty group's metadata, which Kafka also only logs
// on failure.
//
// # Transactional offsets
//
// TxnOffsetCommit writes its offset records as a transactional batch of the
// producer (Store.AppendTxn). They stay pending, invisible to OffsetFetch
// (which answers UNSTABLE_OFFSET_COMMIT for them under require_stable),
// until the producer's transaction marker lands on the same partition: the
// broker reports it with CompleteTxn, and Load meets it as a Marker record.
// A commit marker makes them the committed offsets, except where a plain
// OffsetCommit was written later in the log; an abort drops them. Live
// handlers and Load apply records through the same offsetState methods, so
// a reload rebuilds what the handlers had.
//
// # Concurrency
//
// DESIGN.md asks for one goroutine per coordinator partition. This package
// takes the simpler alternative the brief allows: one mutex per group.
// Kafka's GroupCoordinator works the same way (group.inLock), and it keeps the
// state machine a plain sequence of statements. Appends happen with the
// group's mutex held, so the order of a group's records in the log is the
// order in which they were applied in memory; different groups append
// concurrently, so Store.Append must be safe for concurrent use.
//
// Locks:
//
//   - Coordinator.mu guards the partition table and the group index. It is
//     held only for map operations, never across I/O, and never while a
//     group's mutex is being acquired.
//   - group.mu guards everything inside one group. Every method of *group
//     requires it to be held by the caller. A group method may take
//     Coordinator.mu (to drop a dead group from the index, or to register a
//     transaction's group before its AppendTxn): the lock order is group.mu,
//     then Coordinator.mu.
//   - partitionState, including its producer -> groups index for
//     CompleteTxn and the completions queued while it loads, is guarded by
//     Coordinator.mu. CompleteTxn reads the index under Coordinator.mu,
//     releases it, then locks each group in turn.
//
// A group pointer looked up from the index may be removed (Dead) by the time
// its mutex is taken; every handler checks for Dead after locking, exactly as
// Kafka does.
//
// # Time
//
// There are no per-member timers. Each deadline (session timeouts, rebalance
// and initial-delay timeouts, pending sync, pending member ids) is a time
// stored on the group and checked by one background sweep every
// Config.TickInterval, and eagerly whenever a request touches the group. Tests
// inject Config.Now, move it forward and call the sweep themselves, so no test
// depends on wall-clock sleeps. Close stops the sweep goroutine.
package group

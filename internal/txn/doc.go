// Package txn is Waybill's transaction coordinator: the broker side of
// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
// DescribeTransactions and ListTransactions, plus the KIP-890 part 1 check
// the produce path makes (VerifyPartition). It behaves as Apache Kafka's
// TransactionCoordinator does with transaction.version below 2: KIP-98
// transactions, KIP-360 producer epoch bumps, KIP-447 (offsets through
// AddOffsetsToTxn), KIP-588 PRODUCER_FENCED, KIP-664 DescribeTransactions and
// ListTransactions, KIP-890 part 1 verification. KIP-890 part 2 (an epoch
// bump per transaction, EndTxn v5) is not implemented.
//
// # States
//
//	InitProducerId (new id)
//	  │
//	  ▼          AddPartitionsToTxn, AddOffsetsToTxn
//	Empty ──────────────────────────────────────▶ Ongoing ◀─ more partitions
//	  ▲                                           │     │
//	  │ InitProducerId             EndTxn(commit) │     │ EndTxn(abort), or the coordinator
//	  │ (epoch+1, or a new                        │     │ (timeout; InitProducerId while
//	  │ producer id once the                      │     │ Ongoing; AbortProducer) through
//	  │ epoch is exhausted)                       │     │ PrepareEpochFence: epoch+1,
//	  │                                           ▼     ▼ never persisted
//	  │                               PrepareCommit     PrepareAbort
//	  │                                     │ markers     │ markers
//	  │                                     ▼             ▼
//	  └──────────────────────────── CompleteCommit     CompleteAbort
//
//	Empty, CompleteCommit, CompleteAbort:
//	  InitProducerId     → Empty (as above)
//	  AddPartitionsToTxn → Ongoing (the transaction's timeout starts)
//	  idle for transactional.id.expiration.ms → Dead (tombstone; the id is forgotten)
//
// Every transition is persisted to __transaction_state through Store before
// it is applied in memory and before any answer that depends on it. EndTxn
// is answered once PrepareCommit or PrepareAbort is durable; the markers are
// then written through Markers by a background job per transaction, which
// retries the partitions that failed every MarkerRetryBackoff until each
// succeeds or is gone (UNKNOWN_TOPIC_OR_PARTITION), and then persists
// CompleteCommit or CompleteAbort. Until then the id answers
// CONCURRENT_TRANSACTIONS to InitProducerId and AddPartitionsToTxn, which
// clients retry. Markers carry the transaction's epoch, which for an abort
// the coordinator started (timeout, a newer producer's InitProducerId,
// AbortProducer) is the bumped one, so the fenced producer cannot write to
// the transaction's partitions any more.
//
// Load replays a partition; a transaction found in a Prepare state gets its
// markers written again and is completed, as Kafka does after a coordinator
// fail-over. Ongoing transactions are left to their timeout.
//
// # Persistence
//
// Kafka's own __transaction_state schemas, so that Kafka tooling can read the
// partition:
//
//	key                               value
//	TxnMetadataKey v0 (transactional id)  TxnMetadataValue v0, nil = id expired
//
// Empty writes a null partition list, other states the transaction's
// partitions (Complete states: none). PrepareEpochFence and Dead are never
// written. The KIP-360 memory of the previous producer id and epoch is kept
// in memory only, as in Kafka before 4.0; a KIP-360 retry that spans a
// coordinator move is fenced.
//
// # Concurrency
//
// DESIGN.md asks for one goroutine per coordinator partition. Like
// internal/group, this package takes the simpler alternative: one mutex per
// transactional id, as Kafka's TransactionMetadata.inLock. Appends happen
// with the id's mutex held, so the order of an id's records in the log is
// the order in which they were applied and no request ever sees a transition
// half done (Kafka's pending states are not needed); different ids append
// concurrently, so Store.Append must be safe for concurrent use. No lock is
// held while Markers.WriteMarkers runs: a marker job takes the id's mutex
// only to record which partitions are done and to persist the Complete state.
//
// Locks:
//
//   - Coordinator.mu guards the partition table, the id index and closed. It
//     is held only for map operations, never across I/O, and never while an
//     id's mutex is being acquired.
//   - transaction.mu guards one id's state and marker job. While holding it
//     code may take Coordinator.mu (to drop an expired id, to start a marker
//     job): the lock order is transaction.mu, then Coordinator.mu.
//
// A transaction looked up from the index may have expired or been unloaded
// by the time its mutex is taken; lockTransaction checks both after locking.
// Each loaded partition has a context that Unload cancels; marker jobs and
// background appends run under it and stop when the partition is given up.
//
// # Time
//
// Transaction timeouts and id expiry are checked by sweeps every
// AbortTimedOutCheckInterval and RemoveExpiredCheckInterval, against
// Config.Now. Tests inject Now, move it and call the sweeps themselves.
// Close stops the sweeps and waits for the marker jobs.
package txn

// Package producers keeps the idempotent-producer state of one partition replica: for
// each producer id, its epoch and the last five batches it appended, so that a retried
// batch is recognised and answered with its original offsets, and a batch out of
// sequence is refused. This is Kafka's ProducerStateManager (KIP-98, with KIP-360's
// acceptance of unknown producers).
//
// # Rules (Check)
//
// For a batch with producer id P, epoch E and sequences [first, last]:
//
//   - P unknown: accepted with any sequence. The producer may have expired or its
//     records been deleted by retention; since Kafka 2.5 (KIP-360) the broker trusts it.
//   - E older than P's epoch: INVALID_PRODUCER_EPOCH.
//   - E newer: first must be 0, else OUT_OF_ORDER_SEQUENCE_NUMBER.
//   - E equal: a batch whose [first, last] matches one of the five cached batches is a
//     duplicate (a retry whose ack was lost); the broker answers success with the
//     cached offsets and appends nothing. Otherwise first must follow the last cached
//     sequence (MaxInt32 wraps to 0), else OUT_OF_ORDER_SEQUENCE_NUMBER.
//
// # Transactions (KIP-98)
//
// A transactional batch from a producer with no open transaction opens one at the
// batch's base offset (TxnFirstOffset); its later batches join it, across epoch bumps.
// Only a transaction marker (a control batch the coordinator writes, ApplyMarker) ends
// it. CheckMarker fences markers: an older producer epoch gets INVALID_PRODUCER_EPOCH,
// an older coordinator epoch TRANSACTION_COORDINATOR_FENCED; a newer producer epoch is
// taken and fences the old one (its next batch gets INVALID_PRODUCER_EPOCH).
// CheckCoordinator admits a coordinator's batches (no sequence) on the epoch alone.
// Open transactions are snapshotted and never expired.
//
// # Snapshot file format
//
// The state as of a log offset is written to "%020d.snapshot", named by that end offset
// (the first offset the snapshot does not cover). Integers are big endian.
//
//	offset  size  field
//	0       4     magic "WBPS"
//	4       2     version (1)
//	6       4     CRC-32C (Castagnoli) of every byte after this field
//	10      8     end offset, equal to the one in the file name
//	18      4     producer count
//	22      ...   producers, sorted by id, each:
//	                8  producer id
//	                2  epoch
//	                8  last timestamp (ms)
//	                4  coordinator epoch (-1 if none)
//	                8  first offset of the ongoing transaction (-1 if none)
//	                1  cached batch count (0-5), then per batch, oldest first:
//	                   4 first sequence, 4 last sequence,
//	                   8 first offset, 8 last offset, 8 timestamp (ms)
//
// A damaged file fails with one of ErrSnapshotTruncated, ErrSnapshotChecksum,
// ErrSnapshotVersion or ErrSnapshotMalformed; LoadSnapshot then falls back to an older
// snapshot. Files are written to a ".tmp" name, synced, renamed and the directory
// synced, so a crash leaves either the old set of snapshots or the new one.
package producers

// Package log is the durable, segmented on-disk log of one partition replica.
//
// # Directory layout
//
// One directory per partition replica holds:
//
//	00000000000000000000.log        segment: record batches, back to back
//	00000000000000000000.index      sparse offset index of that segment
//	00000000000000000000.timeindex  time index of that segment
//	00000000000000000000.txnindex   a sidecar of that segment owned by the log's user
//	                                (package partition's aborted transactions; see Sidecar)
//	checkpoint                      log start offset and recovery point
//	cleaner-checkpoint              first dirty offset of compaction (compacted topics)
//	clean-shutdown                  marker: present only after a clean Close
//	*.tmp                           a checkpoint being written; removed at Open
//	*.cleaned, *.swap               a compacted segment being swapped in (see Compaction)
//
// A file name's number is the segment's base offset, the offset of its first batch,
// printed as %020d.
//
// # Segments (.log)
//
// Record batches (magic v2) exactly as the producer sent them, with the broker-assigned
// base offset and partition leader epoch stamped into the header (both outside the CRC,
// see package records). Offsets increase: each batch's base offset is above the previous
// batch's last offset, and the first batch's is at least the segment's base. Appended
// batches are contiguous (base = previous last + 1); compaction leaves gaps, inside
// batches (dropped records) and between them (dropped batches). A segment always ends
// where the next one begins: its last batch's last offset + 1 is the next segment's
// base, which compaction preserves by keeping each rewritten segment's last batch.
//
// # Offset index (.index)
//
// Every index.interval.bytes of batches, one entry maps a batch's base offset to its byte
// position, so a read finds its start with a binary search and a short forward scan.
// Entries are 8 bytes, big endian, strictly increasing in both fields:
//
//	0       4         8
//	+-------+---------+
//	|relOff |position |  relOff   = batch base offset - segment base offset (uint32)
//	+-------+---------+  position = byte position of the batch in the .log (uint32)
//
// # Time index (.timeindex)
//
// Entries are 12 bytes, big endian, strictly increasing in timestamp:
//
//	0                8       12
//	+----------------+-------+
//	|   timestamp    |relOff |  timestamp = the segment's largest batch MaxTimestamp so far
//	+----------------+-------+  relOff    = base offset of the batch holding it - base
//
// An entry (T, o) says: no batch up to and including the one at o has a timestamp above
// T. An entry is added next to an offset index entry when the maximum grew, and once
// more when the segment is sealed, so the last entry is the segment's largest timestamp
// and the batch that holds it.
//
// Index files are written whole when a segment is sealed (rolled) and at Close; the
// active segment's indexes live in memory. They are trusted only for segments below the
// recovery point or after a clean shutdown; otherwise Open rebuilds them by scanning.
//
// # Checkpoint
//
// 28 bytes, replaced atomically (write checkpoint.tmp, fsync, rename, fsync directory):
//
//	0      4   5     8                16               24      28
//	+------+---+-----+----------------+----------------+-------+
//	|"WBCP"|ver| 0 0 |  log start     | recovery point |crc32c |
//	+------+---+-----+----------------+----------------+-------+
//
// The log start offset only moves forward by DeleteBefore (Kafka DeleteRecords) or
// retention; reads below it fail. The recovery point is the base offset of the first
// segment not known durable: every segment wholly below it had its .log, .index and
// .timeindex fsynced.
//
// # Recovery
//
// Open trusts every segment after a clean shutdown (it rescans only the tail of the last
// segment after its last index entry). Otherwise it trusts the segments wholly below the
// recovery point and scans the rest: each batch's header, offsets and CRC-32C are
// validated, and the segment is truncated at the first invalid batch; later segments
// are then deleted, since they follow a hole. Open fsyncs what it recovered before it
// reports it durable, because a process crash leaves unsynced data in the page cache.
//
// # Damage
//
// One error per way a file can be damaged; Open logs which one it found and repairs it:
//
//   - ErrTornBatch: a batch's header or body runs past the end of the .log (torn write).
//   - ErrBadBatchHeader: a batch header with the wrong magic byte or an impossible length.
//   - ErrBatchChecksum: a batch whose CRC-32C does not match its bytes.
//   - ErrOffsetsOutOfOrder: a batch whose base offset is not above the previous batch's
//     last offset (or is below the segment's base).
//   - ErrSegmentGap: a segment whose base offset is not where the previous one ended.
//   - ErrIndexCorrupt: an .index or .timeindex that is missing, has a partial entry, or
//     points outside its segment (the index is rebuilt from the .log).
//   - ErrCheckpointCorrupt: a checkpoint with a bad magic, version or checksum (the log
//     start falls back to the first segment and every segment is scanned).
//
// # Compaction
//
// With cleanup.policy=compact, Compact runs Kafka's log cleaner. The first dirty offset
// (cleaner-checkpoint, same framing as checkpoint: "WBCL", version, offset, crc32c)
// splits the log: below it everything was compacted by an earlier pass. A pass runs when
// the dirty bytes are more than min.cleanable.dirty.ratio of the cleanable ones (sealed,
// durable segments below the caller's high watermark and older than
// min.compaction.lag.ms, up to the first that is not). It maps every key of the dirty
// range to its last offset, then rewrites the segments from the first one to the end of
// that range, in groups that fit one segment, named after the group's first segment:
//
//   - a record is dropped if a later record has its key; records without a key stay;
//   - a tombstone (null value) is dropped once it is below the first dirty offset (its
//     key's older records are gone) and its batch is older than delete.retention.ms;
//   - batches keep their header (base offset, lastOffsetDelta, producer fields, leader
//     epoch) and records keep their offset and timestamp deltas; a batch left with no
//     record is dropped, except a producer's last batch (for its sequence) and the
//     group's last batch (so the segment still ends where the next begins), which stay
//     as empty batches; control batches stay as they are; rewritten batches are
//     uncompressed.
//
// The swap is crash-safe. For a group whose first segment is B:
//
//  1. writing: B.log.cleaned, B.index.cleaned, B.timeindex.cleaned are written and
//     fsynced. A crash here: Open deletes *.cleaned; the sources are intact.
//  2. committed: the .cleaned files are renamed to .swap, indexes first and the .log
//     last, and the directory is fsynced. B.log.swap's name is the commit point: from
//     then on Open completes the swap.
//  3. completing: the sources other than B are removed, B.index.swap and
//     B.timeindex.swap are renamed to their final names, the directory is fsynced (the
//     removals must be durable before the swap stops being recognisable, or a source
//     could come back overlapping the new segment), then B.log.swap is renamed over
//     B.log and the directory is fsynced again.
//
// The user's sidecar files (see Sidecar) travel with the indexes: B's is written as
// the Merge of the sources' in step 1, renamed with the indexes in steps 2 and 3, and
// the sources' are removed in step 3.
//
// Open, before reading segments, deletes *.cleaned and, for each B.log.swap, finds its
// end offset by scanning it, deletes the segments based strictly between B and that
// end, and reruns step 3. An index whose .swap name is gone may be the source's, so
// Open deletes it and rebuilds it from the .log. Index .swap files without a .log.swap
// belong to a swap that never committed and are deleted. Recovery therefore ends with
// either all the sources or the compacted segment, never a mix.
//
// Truncate lowers the first dirty offset (durably, before cutting) to the new end:
// offsets appended after a truncation were never compacted.
//
// # Concurrency
//
// Append, AppendAssigned, Truncate, DeleteBefore, ApplyRetention, SetConfig and Close
// are serialised by the log itself (they are meant to come from one goroutine anyway).
// Read, Scan, Sync and the accessors run concurrently with them and with each other; in
// particular Append proceeds while Sync waits for fsync, which is what lets the caller
// share one fsync between many producers (group commit). Compact runs concurrently with
// everything: it holds writeMu only to swap segments in, and gives up a group that a
// concurrent Truncate, retention or DeleteBefore changed meanwhile. Replaced segments
// stay readable through Chunks handed out before the swap until they are released.
package log

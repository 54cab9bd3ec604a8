package partition

// # Aborted-transaction index ("%020d.txnindex", one per segment)
//
// A read_committed fetch returns, beside the records, the aborted transactions that
// overlap them, so that the consumer can drop their records (KIP-98). As Kafka's
// .txnindex, each segment "B.log" has a file "B.txnindex" holding the aborted
// transactions whose abort marker lies in that segment, in marker order. The log owns
// the files' lifecycle as a sidecar (see log.Sidecar): it creates an empty one with
// each segment, deletes it with its segment (retention, DeleteBefore, Truncate),
// merges the sources' files when compaction replaces segments (compaction keeps
// control batches, so the aborts of the replacement are the sources' concatenated),
// and removes orphans. This package decides what goes in them. Integers are big endian.
//
//	header (8 bytes; absent in an empty file, which holds no entry)
//	0        4        6        8
//	+--------+--------+--------+
//	| "WBTX" |version | entry  |  version = 1, entry size = 28
//	+--------+--------+--------+
//
//	entries (28 bytes each), in the order the markers were appended
//	0                8                16               24       28
//	+----------------+----------------+----------------+--------+
//	|  producer id   |  first offset  |  last offset   | crc32c |
//	+----------------+----------------+----------------+--------+
//	first offset = the transaction's first offset, last offset = its abort marker's,
//	crc32c = CRC-32C (Castagnoli) of bytes 0-23 of the entry
//
// Invariants: last offsets strictly increase from entry to entry and lie in the
// segment (base <= last offset < next segment's base), and 0 <= producer id,
// first offset <= last offset. A transaction may begin in an earlier segment.
//
// Memory: every entry at or above the log start is kept in memory, sorted by last
// offset, so a fetch at offset f finds the aborts with last offset >= f (Kafka's rule:
// those of the segment holding f and later ones, plus earlier ones still open at f) by
// one binary search.
//
// Durability: an entry is written to the active segment's file right after its marker
// is appended (the marker's segment is known only then), before the marker becomes
// visible, and fsynced by the group commit after the log. A crash can therefore lose
// entries that were written after the last sync (a suffix of each file) while keeping
// their markers. Open replays the log from the offset the producer state is replayed
// from (the newest producer snapshot) and restores the aborts found there that the
// files lost. That is complete because a producer snapshot at offset S is written only
// after the files were synced up to S (Close), so entries below S are durable.
// Entries past the log end (their marker was lost or cut off) are dropped. A file that
// recovery changes is rewritten whole (write "B.txnindex.tmp", fsync, rename, fsync the
// directory; the log's Open removes a leftover .tmp).
//
// Damage, one error each, found per segment:
//
//   - ErrTxnIndexTorn: the file ends inside an entry (a write cut short). Expected after
//     a crash: the partial entry is cut off; entries that may be missing are above the
//     producer snapshot and come back from the replay.
//   - ErrTxnIndexHeader: damaged header (magic, version, entry size);
//   - ErrTxnIndexChecksum: an entry whose CRC does not match;
//   - ErrTxnIndexMalformed: an entry breaking the invariants;
//   - ErrTxnIndexMissing: no file beside a non-empty segment (a log written before
//     per-segment files existed, or a lost file; compaction also leaves a merged file
//     out when a source's was damaged).
//
// For the last four nothing in the file can be trusted to be complete: its segment's
// aborts are found again by scanning the log's control batches from the log start (a
// transaction may begin in an earlier segment) up to the end of the segment, which
// Open logs.
//
// Migration: an older Waybill kept one partition-level file "aborted.txnindex". If it
// exists at Open, every segment's file is rebuilt from the log and it is deleted.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"sort"
	"sync"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/vfs"
)

// AbortedTxn is an aborted transaction on this partition: its records from FirstOffset
// up to its abort marker at LastOffset that carry ProducerID must not be delivered to a
// read_committed consumer.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64
}

// Damage found in an aborted-transaction index file; see the format above.
var (
	ErrTxnIndexTorn      = errors.New("partition: aborted-transaction index ends inside an entry")
	ErrTxnIndexHeader    = errors.New("partition: aborted-transaction index header damaged or unknown")
	ErrTxnIndexChecksum  = errors.New("partition: aborted-transaction index entry CRC-32C mismatch")
	ErrTxnIndexMalformed = errors.New("partition: aborted-transaction index entry breaks its invariants")
	ErrTxnIndexMissing   = errors.New("partition: aborted-transaction index missing beside a non-empty segment")
)

const (
	txnIndexSuffix         = ".txnindex"
	legacyIndexName        = "aborted.txnindex" // the partition-level file of older versions
	abortedIndexTmpSuffix  = vfs.TmpSuffix
	abortedIndexVersion    = 1
	abortedIndexHeaderSize = 8
	abortedEntrySize       = 28
)

var (
	abortedIndexMagic = []byte("WBTX")
	castagnoli        = crc32.MakeTable(crc32.Castagnoli)
)

// txnIndexSidecar is how the log manages the files (see log.Sidecar).
var txnIndexSidecar = wlog.Sidecar{Suffix: txnIndexSuffix, Merge: mergeTxnIndexes}

// abortedIndex is the aborted-transaction index: every entry at or above the log start
// in memory, sorted by last offset, and the per-segment files.
type abortedIndex struct {
	fs  vfs.FS
	dir string

	// syncMu serialises fsyncs with replacing the files, so that a sync never runs on
	// a handle being closed. Order: syncMu, then mu.
	syncMu sync.Mutex
	// mu guards the fields below; the append path writes entries, fetches read them.
	mu         sync.RWMutex
	entries    []AbortedTxn
	active     vfs.File // the file of the newest segment an entry went to (or the last one)
	activeBase int64
	activeSize int64
	unsynced   bool       // active has writes not yet fsynced
	retiring   []vfs.File // earlier segments' files with writes to fsync, then close
}

func newAbortedIndex(fsys vfs.FS, dir string) *abortedIndex {
	return &abortedIndex{fs: fsys, dir: dir, activeBase: -1}
}

func (x *abortedIndex) path(base int64) string {
	return wlog.SegmentPath(x.dir, base, txnIndexSuffix)
}

// decodeAbortedIndex parses a whole index file. On damage it returns the entries before
// it with the error naming it. An empty file holds no entry.
func decodeAbortedIndex(b []byte) ([]AbortedTxn, error) {
	if len(b) == 0 {
		return nil, nil
	}
	be := binary.BigEndian
	if len(b) < abortedIndexHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTxnIndexTorn, len(b))
	}
	if string(b[:4]) != string(abortedIndexMagic) ||
		be.Uint16(b[4:]) != abortedIndexVersion || be.Uint16(b[6:]) != abortedEntrySize {
		return nil, ErrTxnIndexHeader
	}
	var entries []AbortedTxn
	for rest := b[abortedIndexHeaderSize:]; len(rest) > 0; rest = rest[abortedEntrySize:] {
		if len(rest) < abortedEntrySize {
			return entries, fmt.Errorf("%w: %d bytes after entry %d", ErrTxnIndexTorn, len(rest), len(entries))
		}
		if crc32.Checksum(rest[:24], castagnoli) != be.Uint32(rest[24:]) {
			return entries, fmt.Errorf("%w: entry %d", ErrTxnIndexChecksum, len(entries))
		}
		e := AbortedTxn{
			ProducerID:  int64(be.Uint64(rest)),
			FirstOffset: int64(be.Uint64(rest[8:])),
			LastOffset:  int64(be.Uint64(rest[16:])),
		}
		if e.ProducerID < 0 || e.FirstOffset < 0 || e.FirstOffset > e.LastOffset ||
			(len(entries) > 0 && e.LastOffset <= entries[len(entries)-1].LastOffset) {
			return entries, fmt.Errorf("%w: entry %d is %+v", ErrTxnIndexMalformed, len(entries), e)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func encodeAbortedEntry(b []byte, e AbortedTxn) []byte {
	be := binary.BigEndian
	b = be.AppendUint64(b, uint64(e.ProducerID))
	b = be.AppendUint64(b, uint64(e.FirstOffset))
	b = be.AppendUint64(b, uint64(e.LastOffset))
	return be.AppendUint32(b, crc32.Checksum(b[len(b)-24:], castagnoli))
}

func abortedIndexHeader() []byte {
	b := append([]byte(nil), abortedIndexMagic...)
	b = binary.BigEndian.AppendUint16(b, abortedIndexVersion)
	return binary.BigEndian.AppendUint16(b, abortedEntrySize)
}

func encodeAbortedIndex(entries []AbortedTxn) []byte {
	b := abortedIndexHeader()
	for _, e := range entries {
		b = encodeAbortedEntry(b, e)
	}
	return b
}

// mergeTxnIndexes is the file of a compacted segment replacing consecutive segments
// whose files are parts: their entries, concatenated. Damage refuses the merge, and the
// file is rebuilt from the log at the next Open.
func mergeTxnIndexes(parts [][]byte) ([]byte, error) {
	var all []AbortedTxn
	for i, part := range parts {
		entries, err := decodeAbortedIndex(part)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i, err)
		}
		if len(all) > 0 && len(entries) > 0 && entries[0].LastOffset <= all[len(all)-1].LastOffset {
			return nil, fmt.Errorf("%w: part %d starts at %+v after %+v", ErrTxnIndexMalformed, i, entries[0], all[len(all)-1])
		}
		all = append(all, entries...)
	}
	return encodeAbortedIndex(all), nil
}

// readTxnIndexFile returns the content of path; missing reports there is none.
func readTxnIndexFile(fsys vfs.FS, path string) (b []byte, missing bool, err error) {
	b, err = vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	return b, false, err
}

// writeTxnIndexFile replaces the file of segment base with entries, fsynced; the
// caller fsyncs the directory.
func (x *abortedIndex) writeTxnIndexFile(base int64, entries []AbortedTxn) error {
	path := x.path(base)
	if err := vfs.ReplaceFile(x.fs, path, encodeAbortedIndex(entries), false); err != nil {
		return fmt.Errorf("partition: writing aborted-transaction index %s: %w", path, err)
	}
	return nil
}

// add appends e, whose marker is in the segment based at base and above every entry's.
// It is durable after sync.
func (x *abortedIndex) add(e AbortedTxn, base int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n := len(x.entries); n > 0 && e.LastOffset <= x.entries[n-1].LastOffset {
		return fmt.Errorf("%w: adding %+v after %+v", ErrTxnIndexMalformed, e, x.entries[n-1])
	}
	if base != x.activeBase {
		if base < x.activeBase {
			return fmt.Errorf("%w: adding %+v to segment %d after segment %d", ErrTxnIndexMalformed, e, base, x.activeBase)
		}
		// The log rolled: its new segment's file (created empty by the log) takes over.
		f, err := x.fs.OpenAppend(x.path(base))
		if err != nil {
			return fmt.Errorf("partition: opening aborted-transaction index: %w", err)
		}
		size, err := f.Size()
		if err != nil {
			f.Close()
			return fmt.Errorf("partition: opening aborted-transaction index: %w", err)
		}
		if x.active != nil {
			if x.unsynced {
				x.retiring = append(x.retiring, x.active)
			} else {
				x.active.Close()
			}
		}
		x.active, x.activeBase, x.activeSize, x.unsynced = f, base, size, false
	}
	var b []byte
	if x.activeSize == 0 {
		b = abortedIndexHeader()
	}
	b = encodeAbortedEntry(b, e)
	if _, err := x.active.Write(b); err != nil {
		return fmt.Errorf("partition: writing aborted-transaction index: %w", err)
	}
	x.activeSize += int64(len(b))
	x.entries = append(x.entries, e)
	x.unsynced = true
	return nil
}

// sync makes every added entry durable.
func (x *abortedIndex) sync() error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	x.mu.Lock()
	files := x.retiring
	retiring := len(files)
	x.retiring = nil
	if x.unsynced {
		files = append(files, x.active)
	}
	x.unsynced = false
	x.mu.Unlock()
	var errs []error
	for i, f := range files {
		errs = append(errs, f.Sync())
		if i < retiring {
			f.Close()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("partition: syncing aborted-transaction index: %w", err)
	}
	return nil
}

// install replaces the entries and the active file after recovery. The files replaced
// must have been synced.
func (x *abortedIndex) install(entries []AbortedTxn, active vfs.File, base, size int64) {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closeFilesLocked()
	x.entries = entries
	x.active, x.activeBase, x.activeSize, x.unsynced = active, base, size, false
}

func (x *abortedIndex) closeFilesLocked() error {
	var errs []error
	for _, f := range x.retiring {
		errs = append(errs, f.Close())
	}
	if x.active != nil {
		errs = append(errs, x.active.Close())
	}
	x.active, x.retiring, x.activeBase = nil, nil, -1
	return errors.Join(errs...)
}

// trimBelow forgets the entries whose marker is below start (the log start offset):
// none of their records can be read any more. Their files go with their segments.
func (x *abortedIndex) trimBelow(start int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	drop := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].LastOffset >= start })
	if drop > 0 {
		x.entries = append([]AbortedTxn(nil), x.entries[drop:]...)
	}
}

// overlapping returns the entries with LastOffset >= from and FirstOffset below the end
// of the data read, sorted by first offset. bound (the LSO the read stopped at) is a
// cheap upper limit of that end; end() computes it exactly, only if an entry needs it,
// since it costs reads.
func (x *abortedIndex) overlapping(from, bound int64, end func() (int64, error)) ([]AbortedTxn, error) {
	x.mu.RLock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].LastOffset >= from })
	var found []AbortedTxn
	needEnd := false
	for _, e := range x.entries[i:] {
		if e.FirstOffset < bound {
			found = append(found, e)
			needEnd = needEnd || e.FirstOffset > from
		}
	}
	x.mu.RUnlock()
	if needEnd {
		// Entries starting at or before from overlap whenever anything was read: the
		// data holds from's batch. The others need the data's exact end.
		e, err := end()
		if err != nil {
			return nil, err
		}
		kept := found[:0]
		for _, t := range found {
			if t.FirstOffset < e {
				kept = append(kept, t)
			}
		}
		found = kept
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].FirstOffset < found[j].FirstOffset })
	return found, nil
}

// snapshot returns a copy of every entry, for tests and diagnostics.
func (x *abortedIndex) snapshot() []AbortedTxn {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append([]AbortedTxn(nil), x.entries...)
}

func (x *abortedIndex) close() error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.closeFilesLocked()
}

// legacyIndexPath is the partition-level file of older versions.
func legacyIndexPath(dir string) string { return filepath.Join(dir, legacyIndexName) }

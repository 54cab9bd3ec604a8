package partition

// # Aborted-transaction index ("aborted.txnindex")
//
// A read_committed fetch returns, beside the records, the aborted transactions that
// overlap them, so that the consumer can drop their records (KIP-98). Kafka keeps a
// .txnindex per segment; Waybill keeps one append-only file per partition, next to the
// segments, because entries are few (one per aborted transaction) and a fetch needs
// those overlapping a range that may span segments. Integers are big endian.
//
//	header (8 bytes)
//	0       4     magic "WBTX"
//	4       2     version (1)
//	6       2     entry size (28)
//
//	entries (28 bytes each), in the order the markers were appended
//	0       8     producer id
//	8       8     first offset of the transaction
//	16      8     last offset: the offset of its abort marker
//	24      4     CRC-32C (Castagnoli) of bytes 0-23 of the entry
//
// Invariants: last offsets strictly increase from entry to entry, and
// 0 <= producer id, first offset <= last offset.
//
// Durability: an entry is written just before its abort marker is appended, and
// fsynced by the same group commit as the marker (after the log's fsync), so it is
// durable no later than the marker. Open drops the entries whose marker is past the log
// end (an entry can be durable while its marker was lost), then replays the log from the
// offset the producer state is replayed from (the newest producer snapshot) and restores
// the aborts found there that the file lost. That is complete because a producer
// snapshot at offset S is written only after the index was synced up to S (Close), so
// entries below S are durable. Truncation cuts the file (entries are in marker order);
// retention and DeleteRecords trim the entries wholly below the log start by rewriting
// the file (write "aborted.txnindex.tmp", fsync, rename, fsync the directory; the log's
// Open removes a leftover .tmp).
//
// Damage, one error each:
//
//   - ErrTxnIndexTorn: the file ends inside an entry (a write cut short). Expected after
//     a crash: the partial entry is cut off; entries that may be missing are above the
//     producer snapshot and come back from the replay.
//   - ErrTxnIndexHeader: missing or damaged header (magic, version, entry size);
//   - ErrTxnIndexChecksum: an entry whose CRC does not match;
//   - ErrTxnIndexMalformed: an entry breaking the invariants;
//   - ErrTxnIndexMissing: no file while the log holds data (a log written before the
//     index existed, or a lost file).
//
// For the last four nothing in the file can be trusted to be complete: it is rebuilt
// from the whole log (from the log start), which Open logs.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"sort"
	"sync"

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

// Damage found in the aborted-transaction index file; see the format above.
var (
	ErrTxnIndexTorn      = errors.New("partition: aborted-transaction index ends inside an entry")
	ErrTxnIndexHeader    = errors.New("partition: aborted-transaction index header missing or unknown")
	ErrTxnIndexChecksum  = errors.New("partition: aborted-transaction index entry CRC-32C mismatch")
	ErrTxnIndexMalformed = errors.New("partition: aborted-transaction index entry breaks its invariants")
	ErrTxnIndexMissing   = errors.New("partition: aborted-transaction index missing beside a non-empty log")
)

const (
	abortedIndexName       = "aborted.txnindex"
	abortedIndexTmpSuffix  = ".tmp"
	abortedIndexVersion    = 1
	abortedIndexHeaderSize = 8
	abortedEntrySize       = 28
)

var (
	abortedIndexMagic = []byte("WBTX")
	castagnoli        = crc32.MakeTable(crc32.Castagnoli)
)

// abortedIndex is the aborted-transaction index: every entry in memory, sorted by last
// offset, mirrored by the file.
type abortedIndex struct {
	fs   vfs.FS
	dir  string
	path string

	// syncMu serialises fsyncs with cutting and replacing the file, so that a sync never
	// runs on a handle being closed. Order: syncMu, then mu.
	syncMu sync.Mutex
	// mu guards the fields below; the append path writes entries, fetches read them.
	mu       sync.RWMutex
	file     vfs.File
	entries  []AbortedTxn
	unsynced bool
}

// openAbortedIndex opens the index in dir, creating it if missing. needRebuild reports
// that its entries cannot be trusted to be complete (damage, named by the logged
// error, or a missing file while the log holds data): the caller must then reset and
// refill it from the whole log. A torn last entry is cut off here.
func openAbortedIndex(fsys vfs.FS, dir string, logEmpty bool) (idx *abortedIndex, needRebuild bool, damage error, err error) {
	idx = &abortedIndex{fs: fsys, dir: dir, path: filepath.Join(dir, abortedIndexName)}
	_, statErr := fsys.Stat(idx.path)
	missing := errors.Is(statErr, fs.ErrNotExist)
	if statErr != nil && !missing {
		return nil, false, nil, statErr
	}
	f, err := fsys.OpenAppend(idx.path)
	if err != nil {
		return nil, false, nil, err
	}
	idx.file = f
	if missing {
		if err := idx.resetFile(); err != nil {
			f.Close()
			return nil, false, nil, err
		}
		if err := fsys.SyncDir(dir); err != nil {
			f.Close()
			return nil, false, nil, err
		}
		if !logEmpty {
			return idx, true, ErrTxnIndexMissing, nil
		}
		return idx, false, nil, nil
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, false, nil, err
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil {
		f.Close()
		return nil, false, nil, err
	}
	entries, damage := decodeAbortedIndex(b)
	switch {
	case damage == nil:
		idx.entries = entries
	case errors.Is(damage, ErrTxnIndexTorn):
		idx.entries = entries
		err = idx.cutFileLocked(len(entries))
	default:
		needRebuild = true
		err = idx.resetFile()
	}
	if err != nil {
		f.Close()
		return nil, false, nil, err
	}
	return idx, needRebuild, damage, nil
}

// decodeAbortedIndex parses a whole index file. On damage it returns the entries before
// it with the error naming it.
func decodeAbortedIndex(b []byte) ([]AbortedTxn, error) {
	be := binary.BigEndian
	if len(b) < abortedIndexHeaderSize || string(b[:4]) != string(abortedIndexMagic) ||
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

// add appends e, whose marker must be above every entry's. It is durable after sync.
func (x *abortedIndex) add(e AbortedTxn) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n := len(x.entries); n > 0 && e.LastOffset <= x.entries[n-1].LastOffset {
		return fmt.Errorf("%w: adding %+v after %+v", ErrTxnIndexMalformed, e, x.entries[n-1])
	}
	if _, err := x.file.Write(encodeAbortedEntry(nil, e)); err != nil {
		return fmt.Errorf("partition: writing aborted-transaction index: %w", err)
	}
	x.entries = append(x.entries, e)
	x.unsynced = true
	return nil
}

// restore adds e, found by replaying the log, unless the index already has its marker.
// The file only ever loses a suffix of its entries (unsynced ones, or those cut past the
// log end), so the entries a replay finds again are exactly those up to the last one
// kept; the kept ones win, since a replay that starts after a transaction began can
// only guess its first offset.
func (x *abortedIndex) restore(e AbortedTxn) error {
	x.mu.RLock()
	n := len(x.entries)
	have := n > 0 && e.LastOffset <= x.entries[n-1].LastOffset
	x.mu.RUnlock()
	if have {
		return nil
	}
	return x.add(e)
}

// sync makes every added entry durable.
func (x *abortedIndex) sync() error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	x.mu.Lock()
	f, due := x.file, x.unsynced
	x.unsynced = false
	x.mu.Unlock()
	if !due {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("partition: syncing aborted-transaction index: %w", err)
	}
	return nil
}

// cutFrom drops the entries whose marker is at or above offset, durably.
func (x *abortedIndex) cutFrom(offset int64) error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	keep := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].LastOffset >= offset })
	if keep == len(x.entries) {
		return nil
	}
	return x.cutFileLocked(keep)
}

// cutFileLocked keeps the first keep entries, in memory and on disk.
func (x *abortedIndex) cutFileLocked(keep int) error {
	if err := x.file.Truncate(abortedIndexHeaderSize + int64(keep)*abortedEntrySize); err != nil {
		return fmt.Errorf("partition: cutting aborted-transaction index: %w", err)
	}
	if err := x.file.Sync(); err != nil {
		return fmt.Errorf("partition: cutting aborted-transaction index: %w", err)
	}
	x.entries = x.entries[:keep:keep]
	return nil
}

// reset empties the index, for a rebuild from the log.
func (x *abortedIndex) reset() error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.resetFile()
}

func (x *abortedIndex) resetFile() error {
	if err := x.file.Truncate(0); err != nil {
		return err
	}
	if _, err := x.file.Write(abortedIndexHeader()); err != nil {
		return err
	}
	x.entries = nil
	return x.file.Sync()
}

// trimBelow forgets the entries whose marker is below start (the log start offset):
// none of their records can be read any more. It rewrites the file only when there is
// something to forget. On error the index is unchanged, except that a failed directory
// sync leaves the new file in place (either file is correct after a crash).
func (x *abortedIndex) trimBelow(start int64) error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	drop := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].LastOffset >= start })
	if drop == 0 {
		return nil
	}
	kept := x.entries[drop:]
	b := abortedIndexHeader()
	for _, e := range kept {
		b = encodeAbortedEntry(b, e)
	}
	tmp := x.path + abortedIndexTmpSuffix
	f, err := x.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("partition: trimming aborted-transaction index: %w", err)
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = x.fs.Rename(tmp, x.path)
	}
	if err != nil {
		f.Close()
		x.fs.Remove(tmp)
		return fmt.Errorf("partition: trimming aborted-transaction index: %w", err)
	}
	// The open handle follows the renamed file: keep appending through it.
	old := x.file
	x.file, x.entries = f, append([]AbortedTxn(nil), kept...)
	old.Close()
	if err := x.fs.SyncDir(x.dir); err != nil {
		return fmt.Errorf("partition: trimming aborted-transaction index: %w", err)
	}
	return nil
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
	return x.file.Close()
}

package producers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/vfs"
)

// Errors for a damaged snapshot file, one per way it can be damaged.
var (
	ErrSnapshotTruncated = errors.New("producers: snapshot truncated")
	ErrSnapshotChecksum  = errors.New("producers: snapshot checksum mismatch")
	ErrSnapshotVersion   = errors.New("producers: unknown snapshot magic or version")
	ErrSnapshotMalformed = errors.New("producers: snapshot contents malformed")
)

const (
	snapshotSuffix   = ".snapshot"
	tmpSuffix        = vfs.TmpSuffix
	snapshotVersion  = 1
	snapshotsKept    = 2
	crcOffset        = 6
	fileHeaderSize   = 22
	producerFixed    = 8 + 2 + 8 + 4 + 8 + 1
	batchEncodedSize = 4 + 4 + 8 + 8 + 8
)

var (
	snapshotMagic = []byte("WBPS")
	crc32c        = crc32.MakeTable(crc32.Castagnoli)
)

// SnapshotName is the file name of the snapshot ending at endOffset.
func SnapshotName(endOffset int64) string { return fmt.Sprintf("%020d%s", endOffset, snapshotSuffix) }

// WriteSnapshot durably writes the state as of endOffset (the first offset it does not
// cover, normally the log end offset) to dir, then removes all but the newest
// snapshotsKept snapshots and any leftover temporary files.
func (s *State) WriteSnapshot(fsys vfs.FS, dir string, endOffset int64) error {
	final := filepath.Join(dir, SnapshotName(endOffset))
	if err := vfs.ReplaceFile(fsys, final, s.encode(endOffset), true); err != nil {
		return fmt.Errorf("producers: write snapshot: %w", err)
	}
	return prune(fsys, dir)
}

// prune removes old snapshots and temporary files. Their removal need not be durable:
// a resurrected old snapshot is never preferred over a newer one.
func prune(fsys vfs.FS, dir string) error {
	names, err := fsys.List(dir)
	if err != nil {
		return fmt.Errorf("producers: prune snapshots: %w", err)
	}
	offsets := snapshotOffsets(names)
	for i := snapshotsKept; i < len(offsets); i++ {
		if err := fsys.Remove(filepath.Join(dir, SnapshotName(offsets[i]))); err != nil {
			return fmt.Errorf("producers: prune snapshots: %w", err)
		}
	}
	for _, name := range names {
		if strings.HasSuffix(name, snapshotSuffix+tmpSuffix) {
			if err := fsys.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("producers: prune snapshots: %w", err)
			}
		}
	}
	return nil
}

// snapshotOffsets returns the end offsets of the snapshot files among names, newest
// first.
func snapshotOffsets(names []string) []int64 {
	var offsets []int64
	for _, name := range names {
		digits, ok := strings.CutSuffix(name, snapshotSuffix)
		if !ok || len(digits) != 20 {
			continue
		}
		off, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || off < 0 {
			continue
		}
		offsets = append(offsets, off)
	}
	slices.Sort(offsets)
	slices.Reverse(offsets)
	return offsets
}

// LoadSnapshot loads the newest valid snapshot in dir and returns the state and the
// offset it ends at; the caller then replays the log from that offset. A damaged or
// unreadable snapshot is logged, deleted (as Kafka does) and skipped in favour of an
// older one; with none left, or no dir, it returns an empty state and offset 0. Only a
// failure to list dir is returned as an error.
//
// After truncating the log, call DeleteSnapshotsAbove first so that no snapshot covers
// offsets the log no longer has.
func LoadSnapshot(fsys vfs.FS, dir string) (state *State, offset int64, err error) {
	names, err := fsys.List(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return NewState(), 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("producers: load snapshot: %w", err)
	}
	for _, off := range snapshotOffsets(names) {
		path := filepath.Join(dir, SnapshotName(off))
		s, err := readSnapshot(fsys, path, off)
		if err == nil {
			return s, off, nil
		}
		slog.Warn("producers: skipping damaged snapshot", "file", path, "err", err)
		if rmErr := fsys.Remove(path); rmErr != nil {
			slog.Warn("producers: cannot delete damaged snapshot", "file", path, "err", rmErr)
		}
	}
	return NewState(), 0, nil
}

func readSnapshot(fsys vfs.FS, path string, endOffset int64) (*State, error) {
	data, err := vfs.ReadFile(fsys, path)
	if err != nil {
		return nil, err
	}
	return decode(data, endOffset)
}

// DeleteSnapshotsAbove durably removes the snapshots ending after offset, for a log
// truncated to offset: they describe batches the log no longer holds.
func DeleteSnapshotsAbove(fsys vfs.FS, dir string, offset int64) error {
	names, err := fsys.List(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("producers: delete snapshots: %w", err)
	}
	removed := false
	for _, off := range snapshotOffsets(names) {
		if off <= offset {
			break
		}
		if err := fsys.Remove(filepath.Join(dir, SnapshotName(off))); err != nil {
			return fmt.Errorf("producers: delete snapshots: %w", err)
		}
		removed = true
	}
	if removed {
		if err := fsys.SyncDir(dir); err != nil {
			return fmt.Errorf("producers: delete snapshots: %w", err)
		}
	}
	return nil
}

// encode serialises the state in the format of the package comment.
func (s *State) encode(endOffset int64) []byte {
	ids := make([]int64, 0, len(s.producers))
	size := fileHeaderSize
	for id, p := range s.producers {
		ids = append(ids, id)
		size += producerFixed + p.numBatches*batchEncodedSize
	}
	slices.Sort(ids)

	be := binary.BigEndian
	b := make([]byte, 0, size)
	b = append(b, snapshotMagic...)
	b = be.AppendUint16(b, snapshotVersion)
	b = be.AppendUint32(b, 0) // CRC, filled in below
	b = be.AppendUint64(b, uint64(endOffset))
	b = be.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		p := s.producers[id]
		b = be.AppendUint64(b, uint64(id))
		b = be.AppendUint16(b, uint16(p.epoch))
		b = be.AppendUint64(b, uint64(p.lastTimestamp))
		b = be.AppendUint32(b, uint32(p.coordinatorEpoch))
		b = be.AppendUint64(b, uint64(p.txnFirstOffset))
		b = append(b, byte(p.numBatches))
		for _, bi := range p.cached() {
			b = be.AppendUint32(b, uint32(bi.FirstSeq))
			b = be.AppendUint32(b, uint32(bi.LastSeq))
			b = be.AppendUint64(b, uint64(bi.FirstOffset))
			b = be.AppendUint64(b, uint64(bi.LastOffset))
			b = be.AppendUint64(b, uint64(bi.Timestamp))
		}
	}
	be.PutUint32(b[crcOffset:], crc32.Checksum(b[crcOffset+4:], crc32c))
	return b
}

// decode parses a snapshot file whose name says it ends at endOffset.
func decode(b []byte, endOffset int64) (*State, error) {
	be := binary.BigEndian
	if len(b) < fileHeaderSize {
		return nil, ErrSnapshotTruncated
	}
	if string(b[:4]) != string(snapshotMagic) || be.Uint16(b[4:]) != snapshotVersion {
		return nil, ErrSnapshotVersion
	}
	if crc32.Checksum(b[crcOffset+4:], crc32c) != be.Uint32(b[crcOffset:]) {
		return nil, ErrSnapshotChecksum
	}
	if got := int64(be.Uint64(b[10:])); got != endOffset {
		return nil, fmt.Errorf("%w: file named for offset %d holds offset %d", ErrSnapshotMalformed, endOffset, got)
	}
	count := be.Uint32(b[18:])
	rest := b[fileHeaderSize:]
	if uint64(count)*producerFixed > uint64(len(rest)) {
		return nil, ErrSnapshotTruncated
	}
	s := &State{producers: make(map[int64]*producer, count)}
	for i := uint32(0); i < count; i++ {
		if len(rest) < producerFixed {
			return nil, ErrSnapshotTruncated
		}
		id := int64(be.Uint64(rest))
		p := &producer{
			epoch:            int16(be.Uint16(rest[8:])),
			lastTimestamp:    int64(be.Uint64(rest[10:])),
			coordinatorEpoch: int32(be.Uint32(rest[18:])),
			txnFirstOffset:   int64(be.Uint64(rest[22:])),
			numBatches:       int(rest[30]),
		}
		rest = rest[producerFixed:]
		if id < 0 || p.numBatches > MaxCachedBatches {
			return nil, fmt.Errorf("%w: producer %d with %d batches", ErrSnapshotMalformed, id, p.numBatches)
		}
		if _, dup := s.producers[id]; dup {
			return nil, fmt.Errorf("%w: producer %d listed twice", ErrSnapshotMalformed, id)
		}
		if len(rest) < p.numBatches*batchEncodedSize {
			return nil, ErrSnapshotTruncated
		}
		for j := range p.numBatches {
			p.batches[j] = BatchInfo{
				FirstSeq:    int32(be.Uint32(rest)),
				LastSeq:     int32(be.Uint32(rest[4:])),
				FirstOffset: int64(be.Uint64(rest[8:])),
				LastOffset:  int64(be.Uint64(rest[16:])),
				Timestamp:   int64(be.Uint64(rest[24:])),
			}
			rest = rest[batchEncodedSize:]
		}
		s.producers[id] = p
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last producer", ErrSnapshotMalformed, len(rest))
	}
	return s, nil
}

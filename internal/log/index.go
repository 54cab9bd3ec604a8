package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/waybill/waybill/internal/vfs"
)

const (
	offsetEntrySize = 8  // relOffset uint32, position uint32
	timeEntrySize   = 12 // timestamp int64, relOffset uint32
)

// entryTable is a sorted array of fixed-size index entries, held in memory while its
// segment is active and read from its file once the segment is sealed (so sealed
// segments cost no memory).
//
// A table value is a snapshot: the appender replaces mem (never rewrites bytes a
// snapshot can see), so readers copy the struct under Log.mu and search it unlocked.
type entryTable struct {
	width int
	mem   []byte   // entries while active; nil when file-backed
	file  vfs.File // entries once sealed
	n     int      // number of entries
}

// entry returns entry i in buf (len(buf) >= width).
func (t entryTable) entry(i int, buf []byte) ([]byte, error) {
	if t.file == nil {
		return t.mem[i*t.width : (i+1)*t.width], nil
	}
	b := buf[:t.width]
	if _, err := t.file.ReadAt(b, int64(i*t.width)); err != nil {
		return nil, fmt.Errorf("log: read index %s: %w", t.file.Name(), err)
	}
	return b, nil
}

// search returns the smallest i in [0, n) for which after(entry i) is true, or n.
func (t entryTable) search(after func(e []byte) bool) (int, error) {
	var buf [timeEntrySize]byte
	var err error
	i := sort.Search(t.n, func(i int) bool {
		if err != nil {
			return true
		}
		e, rerr := t.entry(i, buf[:])
		if rerr != nil {
			err = rerr
			return true
		}
		return after(e)
	})
	return i, err
}

// last returns the last entry, or nil if the table is empty.
func (t entryTable) last() ([]byte, error) {
	if t.n == 0 {
		return nil, nil
	}
	return t.entry(t.n-1, make([]byte, t.width))
}

// add appends an entry; the caller holds Log.mu for writing.
func (t *entryTable) add(e []byte) {
	t.mem = append(t.mem, e...)
	t.n++
}

// cut keeps the first n entries of an in-memory table. It copies, because readers may
// hold a snapshot whose bytes later appends would overwrite.
func (t *entryTable) cut(n int) {
	t.mem = append([]byte(nil), t.mem[:n*t.width]...)
	t.n = n
}

func offsetEntry(rel uint32, pos uint32) []byte {
	var e [offsetEntrySize]byte
	binary.BigEndian.PutUint32(e[0:], rel)
	binary.BigEndian.PutUint32(e[4:], pos)
	return e[:]
}

func decodeOffsetEntry(e []byte) (rel uint32, pos uint32) {
	return binary.BigEndian.Uint32(e[0:]), binary.BigEndian.Uint32(e[4:])
}

func timeEntry(ts int64, rel uint32) []byte {
	var e [timeEntrySize]byte
	binary.BigEndian.PutUint64(e[0:], uint64(ts))
	binary.BigEndian.PutUint32(e[8:], rel)
	return e[:]
}

func decodeTimeEntry(e []byte) (ts int64, rel uint32) {
	return int64(binary.BigEndian.Uint64(e[0:])), binary.BigEndian.Uint32(e[8:])
}

// floorOffset returns the position of the last indexed batch whose relative base
// offset is <= rel, or position 0 with rel 0 when none is.
func floorOffset(t entryTable, rel uint32) (entryRel uint32, pos int64, err error) {
	i, err := t.search(func(e []byte) bool { r, _ := decodeOffsetEntry(e); return r > rel })
	if err != nil || i == 0 {
		return 0, 0, err
	}
	var buf [offsetEntrySize]byte
	e, err := t.entry(i-1, buf[:])
	if err != nil {
		return 0, 0, err
	}
	r, p := decodeOffsetEntry(e)
	return r, int64(p), nil
}

// floorPosition returns the last indexed batch position <= pos, or 0 when none is.
func floorPosition(t entryTable, pos int64) (int64, error) {
	i, err := t.search(func(e []byte) bool { _, p := decodeOffsetEntry(e); return int64(p) > pos })
	if err != nil || i == 0 {
		return 0, err
	}
	var buf [offsetEntrySize]byte
	e, err := t.entry(i-1, buf[:])
	if err != nil {
		return 0, err
	}
	_, p := decodeOffsetEntry(e)
	return int64(p), nil
}

// floorTimestampBelow returns the relative offset of the last time entry whose
// timestamp is < ts: no batch up to it can hold a timestamp >= ts.
func floorTimestampBelow(t entryTable, ts int64) (rel uint32, ok bool, err error) {
	i, err := t.search(func(e []byte) bool { et, _ := decodeTimeEntry(e); return et >= ts })
	if err != nil || i == 0 {
		return 0, false, err
	}
	var buf [timeEntrySize]byte
	e, err := t.entry(i-1, buf[:])
	if err != nil {
		return 0, false, err
	}
	_, r := decodeTimeEntry(e)
	return r, true, nil
}

// openIndexFile opens a sealed segment's index file and checks its cheap invariants:
// whole entries, and a last entry that points inside the segment (relative offset below
// maxRel, and for the offset index a position below logSize).
func openIndexFile(fsys vfs.FS, path string, width int, maxRel int64, logSize int64) (entryTable, error) {
	f, err := fsys.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return entryTable{}, fmt.Errorf("%w: %s missing", ErrIndexCorrupt, path)
	}
	if err != nil {
		return entryTable{}, err
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return entryTable{}, err
	}
	t := entryTable{width: width, file: f, n: int(size) / width}
	bad := func(why string) (entryTable, error) {
		f.Close()
		return entryTable{}, fmt.Errorf("%w: %s: %s", ErrIndexCorrupt, path, why)
	}
	if size%int64(width) != 0 {
		return bad("partial entry")
	}
	e, err := t.last()
	if err != nil {
		f.Close()
		return entryTable{}, err
	}
	if e != nil {
		if width == offsetEntrySize {
			rel, pos := decodeOffsetEntry(e)
			if int64(rel) >= maxRel || int64(pos) >= logSize {
				return bad("last entry outside the segment")
			}
		} else if _, rel := decodeTimeEntry(e); int64(rel) >= maxRel {
			return bad("last entry outside the segment")
		}
	}
	return t, nil
}

// loadToMemory reads a whole index file into an in-memory table.
func loadToMemory(t entryTable) (entryTable, error) {
	if t.file == nil {
		return t, nil
	}
	b := make([]byte, t.n*t.width)
	if _, err := t.file.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && len(b) == 0) {
		return entryTable{}, fmt.Errorf("log: read index %s: %w", t.file.Name(), err)
	}
	return entryTable{width: t.width, mem: b, n: t.n}, nil
}

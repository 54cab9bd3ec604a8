package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// The cleaner checkpoint holds the first dirty offset: everything below it has been
// compacted. It lets tombstones there be dropped once delete.retention.ms has passed,
// and keeps the dirty ratio honest across restarts. It may only ever be too low (which
// costs a longer compaction), never too high (which could drop a tombstone whose older
// values were never compacted away), so Truncate lowers it durably before cutting.
//
//	0      4   5     8                16      20
//	+------+---+-----+----------------+-------+
//	|"WBCL"|ver| 0 0 |  cleaned to    |crc32c |
//	+------+---+-----+----------------+-------+
const (
	cleanerCheckpointName    = "cleaner-checkpoint"
	cleanerCheckpointSize    = 20
	cleanerCheckpointVersion = 1
)

var cleanerCheckpointMagic = []byte("WBCL")

func encodeCleanerCheckpoint(cleanedTo int64) []byte {
	b := make([]byte, cleanerCheckpointSize)
	copy(b, cleanerCheckpointMagic)
	b[4] = cleanerCheckpointVersion
	binary.BigEndian.PutUint64(b[8:], uint64(cleanedTo))
	binary.BigEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	return b
}

// readCleanerCheckpoint returns the cleaned-to offset in dir, or -1 if there is none
// or it is damaged (the log is then treated as never compacted, which is safe).
func (l *Log) readCleanerCheckpoint() (int64, error) {
	f, err := l.fs.Open(dirPath(l.dir, cleanerCheckpointName))
	if errors.Is(err, os.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	defer f.Close()
	b := make([]byte, cleanerCheckpointSize+1)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return -1, err
	}
	b = b[:n]
	if n != cleanerCheckpointSize || string(b[:4]) != string(cleanerCheckpointMagic) ||
		b[4] != cleanerCheckpointVersion || binary.BigEndian.Uint32(b[16:]) != crc32.Checksum(b[:16], castagnoli) ||
		int64(binary.BigEndian.Uint64(b[8:])) < 0 {
		l.logger.Warn("ignoring damaged cleaner checkpoint; the next compaction starts over")
		return -1, nil
	}
	return int64(binary.BigEndian.Uint64(b[8:])), nil
}

// persistCleanedTo writes the current cleaned-to offset durably unless it is on disk.
func (l *Log) persistCleanedTo() error {
	l.metaMu.Lock()
	defer l.metaMu.Unlock()
	l.mu.RLock()
	c := l.cleanedTo
	l.mu.RUnlock()
	if c == l.cleanedPersisted {
		return nil
	}
	if err := writeFileAtomic(l.fs, l.dir, cleanerCheckpointName, encodeCleanerCheckpoint(c)); err != nil {
		return fmt.Errorf("log: writing cleaner checkpoint: %w", err)
	}
	l.cleanedPersisted = c
	return nil
}

// lowerCleanedToWriteLocked makes sure the cleaned-to offset is at most offset, durably,
// before Truncate removes data: offsets re-appended after a truncation were never
// compacted. The caller holds writeMu.
func (l *Log) lowerCleanedToWriteLocked(offset int64) error {
	l.mu.Lock()
	lowered := l.cleanedTo > offset
	if lowered {
		l.cleanedTo = offset
	}
	l.mu.Unlock()
	if !lowered {
		return nil
	}
	return l.persistCleanedTo()
}

// loadCleanedTo reads the cleaner checkpoint at Open, after the segments are settled. A
// value past the recovered end (a crash lost data it covered) is lowered durably.
func (l *Log) loadCleanedTo() error {
	c, err := l.readCleanerCheckpoint()
	if err != nil {
		return err
	}
	l.cleanedTo, l.cleanedPersisted = c, c
	if end := l.activeLocked().next; c > end {
		l.cleanedTo = end
		return l.persistCleanedTo()
	}
	return nil
}

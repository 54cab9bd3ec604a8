package partition

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// The leader-epoch cache (KIP-101): for every leader epoch this replica's log holds
// batches of, the offset where that epoch began. A follower or a demoted leader asks its
// leader where its last epoch ended and cuts its log there, which is how two replicas
// that wrote different batches at the same offsets under different leaders agree again;
// the high watermark alone cannot tell (KIP-101's examples). OffsetForLeaderEpoch and
// the fetch's diverging-epoch check (KIP-279, KIP-320) read it.
//
// The cache lives in the file leader-epoch-checkpoint, as Kafka's does (a version line,
// a count line, then "epoch startOffset" lines), replaced durably whenever it changes. A
// new epoch is written before the first batch of that epoch, so after any crash the file
// knows every epoch the log holds; entries past the recovered log end are dropped at open.

// EpochEntry is where a leader epoch began in the log.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

const epochCheckpointName = "leader-epoch-checkpoint"

type epochCache struct {
	fs   vfs.FS
	path string

	mu      sync.Mutex
	entries []EpochEntry // by epoch and start offset, both increasing
}

// loadEpochCache reads the checkpoint, or rebuilds it by scanning the log when there is
// none (a data directory from before replication), and drops what lies past the log end.
func loadEpochCache(fsys vfs.FS, dir string, l *wlog.Log) (*epochCache, error) {
	c := &epochCache{fs: fsys, path: filepath.Join(dir, epochCheckpointName)}
	data, err := vfs.ReadFile(fsys, c.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := c.rebuild(l); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if c.entries, err = decodeEpochCheckpoint(data); err != nil {
			if err := c.rebuild(l); err != nil {
				return nil, err
			}
		}
	}
	if err := c.truncateFrom(l.EndOffset()); err != nil {
		return nil, err
	}
	if err := c.truncateBefore(l.StartOffset()); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *epochCache) rebuild(l *wlog.Log) error {
	c.entries = nil
	err := l.Scan(l.StartOffset(), func(h records.Header, _ []byte) error {
		c.noteLocked(h.PartitionLeaderEpoch, h.BaseOffset)
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuilding the leader-epoch cache: %w", err)
	}
	if len(c.entries) == 0 {
		return nil // an empty log: the first epoch assigned writes the file
	}
	return c.persistLocked()
}

func decodeEpochCheckpoint(data []byte) ([]EpochEntry, error) {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 || lines[0] != "0" {
		return nil, fmt.Errorf("leader-epoch checkpoint: unknown version or header")
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return nil, fmt.Errorf("leader-epoch checkpoint: count %q for %d entries", lines[1], len(lines)-2)
	}
	var entries []EpochEntry
	for _, line := range lines[2:] {
		var e EpochEntry
		if _, err := fmt.Sscanf(line, "%d %d", &e.Epoch, &e.StartOffset); err != nil {
			return nil, fmt.Errorf("leader-epoch checkpoint: line %q: %w", line, err)
		}
		if k := len(entries); k > 0 && (e.Epoch <= entries[k-1].Epoch || e.StartOffset < entries[k-1].StartOffset) {
			return nil, fmt.Errorf("leader-epoch checkpoint: entry %v after %v", e, entries[k-1])
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func (c *epochCache) persistLocked() error {
	var b strings.Builder
	fmt.Fprintf(&b, "0\n%d\n", len(c.entries))
	for _, e := range c.entries {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	return vfs.ReplaceFile(c.fs, c.path, []byte(b.String()), true)
}

// noteLocked records that epoch's batches start at offset when epoch is new; it reports
// whether the entries changed.
func (c *epochCache) noteLocked(epoch int32, offset int64) bool {
	if epoch < 0 {
		return false
	}
	if k := len(c.entries); k > 0 && c.entries[k-1].Epoch >= epoch {
		return false
	}
	c.entries = append(c.entries, EpochEntry{Epoch: epoch, StartOffset: offset})
	return true
}

// assign records, durably, that epoch begins at offset, unless the cache already knows
// epoch or a later one. Called before the first batch of that epoch is written.
func (c *epochCache) assign(epoch int32, offset int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.noteLocked(epoch, offset) {
		return nil
	}
	return c.persistLocked()
}

// truncateFrom forgets the epochs that begin at or past end (the log was cut there).
func (c *epochCache) truncateFrom(end int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := slices.DeleteFunc(slices.Clone(c.entries), func(e EpochEntry) bool { return e.StartOffset >= end })
	if len(kept) == len(c.entries) {
		return nil
	}
	c.entries = kept
	return c.persistLocked()
}

// truncateBefore follows the log start: epochs wholly below start go, and the one that
// covers start now begins there.
func (c *epochCache) truncateBefore(start int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	for i+1 < len(c.entries) && c.entries[i+1].StartOffset <= start {
		i++
	}
	if i == 0 && (len(c.entries) == 0 || c.entries[0].StartOffset >= start) {
		return nil
	}
	c.entries = slices.Clone(c.entries[i:])
	c.entries[0].StartOffset = max(c.entries[0].StartOffset, start)
	return c.persistLocked()
}

// latest is the newest epoch the log holds, or -1.
func (c *epochCache) latest() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].Epoch
}

// endOffsetFor answers OffsetForLeaderEpoch as Kafka's LeaderEpochFileCache does: the
// largest epoch at or below the requested one, and the offset where the next epoch
// began (logEnd for the newest). An epoch past the newest, or none at all, is
// undefined (-1, -1); one below the oldest gets the oldest's start offset.
func (c *epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := len(c.entries)
	switch {
	case epoch < 0 || k == 0:
		return -1, -1
	case c.entries[k-1].Epoch == epoch:
		return epoch, logEnd
	}
	higher := -1
	for i, e := range c.entries {
		if e.Epoch > epoch {
			higher = i
			break
		}
	}
	switch {
	case higher < 0:
		return -1, -1
	case higher == 0:
		return epoch, c.entries[0].StartOffset
	default:
		return c.entries[higher-1].Epoch, c.entries[higher].StartOffset
	}
}

// startOf is where epoch began, or 0 when the cache does not know it.
func (c *epochCache) startOf(epoch int32) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.Epoch == epoch {
			return e.StartOffset
		}
	}
	return 0
}

// list returns the cache's entries (tests, replica verification).
func (c *epochCache) list() []EpochEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.entries)
}

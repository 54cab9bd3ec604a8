package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/vfs"
)

const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	tmpSuffix       = vfs.TmpSuffix
	checkpointName  = "checkpoint"
	cleanMarkerName = "clean-shutdown"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func segmentPath(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// parseSegmentName returns the base offset of a "%020d.log" name.
func parseSegmentName(name string) (int64, bool) {
	num, ok := strings.CutSuffix(name, logSuffix)
	if !ok || len(num) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(num, 10, 64)
	return base, err == nil && base >= 0
}

// checkpoint is the content of the checkpoint file.
type checkpoint struct {
	logStart      int64
	recoveryPoint int64
}

const (
	checkpointSize    = 28
	checkpointVersion = 1
)

var checkpointMagic = []byte("WBCP")

func (c checkpoint) encode() []byte {
	b := make([]byte, checkpointSize)
	copy(b, checkpointMagic)
	b[4] = checkpointVersion
	binary.BigEndian.PutUint64(b[8:], uint64(c.logStart))
	binary.BigEndian.PutUint64(b[16:], uint64(c.recoveryPoint))
	binary.BigEndian.PutUint32(b[24:], crc32.Checksum(b[:24], castagnoli))
	return b
}

// readCheckpoint returns the checkpoint in dir; found is false if there is none.
func readCheckpoint(fsys vfs.FS, dir string) (c checkpoint, found bool, err error) {
	f, err := fsys.Open(filepath.Join(dir, checkpointName))
	if errors.Is(err, os.ErrNotExist) {
		return checkpoint{}, false, nil
	}
	if err != nil {
		return checkpoint{}, false, err
	}
	defer f.Close()
	b := make([]byte, checkpointSize+1)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return checkpoint{}, false, err
	}
	b = b[:n]
	if n != checkpointSize || string(b[:4]) != string(checkpointMagic) || b[4] != checkpointVersion ||
		binary.BigEndian.Uint32(b[24:]) != crc32.Checksum(b[:24], castagnoli) {
		return checkpoint{}, false, ErrCheckpointCorrupt
	}
	c = checkpoint{
		logStart:      int64(binary.BigEndian.Uint64(b[8:])),
		recoveryPoint: int64(binary.BigEndian.Uint64(b[16:])),
	}
	if c.logStart < 0 || c.recoveryPoint < 0 {
		return checkpoint{}, false, ErrCheckpointCorrupt
	}
	return c, true, nil
}

// writeFileAtomic replaces dir/name with data durably, directory included.
func writeFileAtomic(fsys vfs.FS, dir, name string, data []byte) error {
	return vfs.ReplaceFile(fsys, filepath.Join(dir, name), data, true)
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

func dirPath(dir, name string) string { return filepath.Join(dir, name) }

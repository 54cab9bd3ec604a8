package partition

import (
	"encoding/binary"
	"hash/crc32"
	"path/filepath"

	"github.com/waybill/waybill/internal/vfs"
)

// The high watermark is saved in the file high-watermark at every close and every
// replica.high.watermark.checkpoint.interval.ms (SaveHighWatermark), as Kafka's
// replication-offset-checkpoint is. A replicated
// partition reopens with it rather than its log end (SetLeadership): what lies above
// may never have reached the other replicas, and must not be shown to consumers until
// they have it. A lower value than the truth only costs a wait for the followers; a
// missing or damaged file counts as the log start.

const hwCheckpointName = "high-watermark"

func readHWCheckpoint(fsys vfs.FS, dir string, logStart int64) int64 {
	b, err := vfs.ReadFile(fsys, filepath.Join(dir, hwCheckpointName))
	if err != nil || len(b) != 12 || crc32.ChecksumIEEE(b[:8]) != binary.BigEndian.Uint32(b[8:]) {
		return logStart
	}
	return max(int64(binary.BigEndian.Uint64(b)), logStart)
}

// SaveHighWatermark writes the high watermark when it moved since the last save. A
// failure is logged only: the checkpoint is an optimisation.
func (p *Partition) SaveHighWatermark() {
	p.stateMu.Lock()
	hw, saved := p.hw, p.savedHW
	p.stateMu.Unlock()
	if hw == saved {
		return
	}
	b := binary.BigEndian.AppendUint64(nil, uint64(hw))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	if err := vfs.ReplaceFile(p.cfg.FS, filepath.Join(p.cfg.Dir, hwCheckpointName), b, true); err != nil {
		p.cfg.Logger.Warn("saving the high watermark", "topic", p.cfg.Topic, "partition", p.cfg.Index, "err", err)
		return
	}
	p.stateMu.Lock()
	p.savedHW = hw
	p.stateMu.Unlock()
}

package testbroker

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// ReplicaLog is what one node's replica of a partition holds on disk.
type ReplicaLog struct {
	Node    int32
	Batches []partition.BatchID // every batch from the log start, in offset order
	End     int64               // the log end offset
}

// ReplicaLogs reads node id's replica of topic-index from its data directory, for a node
// that is stopped: the partition directory is copied to a temporary directory and opened
// there with package log, so that the node's own files stay as the node left them
// (opening a log may rebuild indexes or truncate a torn tail). A node that holds no
// replica of the partition gives an error. With WAYBILL_DEBUG_BATCHES set, every batch
// read is printed to stderr (producer, transactional, marker type), to diagnose a
// failing run.
func (pc *ProcessCluster) ReplicaLogs(id int32, topic string, index int32) (ReplicaLog, error) {
	if pc.Running(id) {
		return ReplicaLog{}, fmt.Errorf("node %d is running; stop it before reading its logs", id)
	}
	src := filepath.Join(pc.DataDir(id), "logs", fmt.Sprintf("%s-%d", topic, index))
	if _, err := os.Stat(src); err != nil {
		return ReplicaLog{}, fmt.Errorf("node %d: %w", id, err)
	}
	dst := filepath.Join(pc.t.TempDir(), filepath.Base(src))
	if err := copyDir(src, dst); err != nil {
		return ReplicaLog{}, fmt.Errorf("copying node %d's %s: %w", id, filepath.Base(src), err)
	}
	l, err := wlog.Open(vfs.Default, dst, wlog.DefaultConfig(), nil)
	if err != nil {
		return ReplicaLog{}, fmt.Errorf("node %d: %w", id, err)
	}
	defer l.Close()
	rl := ReplicaLog{Node: id, End: l.EndOffset()}
	err = l.Scan(l.StartOffset(), func(h records.Header, b []byte) error {
		if os.Getenv("WAYBILL_DEBUG_BATCHES") != "" {
			kind := ""
			if h.IsControl() {
				c, _ := records.ParseControlType(b)
				kind = fmt.Sprintf("control commit=%v", c)
			}
			fmt.Fprintf(os.Stderr, "DEBUG node %d %s-%d batch %d-%d epoch %d pid %d pepoch %d txn %v %s\n", id, topic, index, h.BaseOffset, h.LastOffset(), h.PartitionLeaderEpoch, h.ProducerID, h.ProducerEpoch, h.IsTransactional(), kind)
		}
		rl.Batches = append(rl.Batches, partition.BatchID{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(),
			LeaderEpoch: h.PartitionLeaderEpoch, CRC: h.CRC})
		return nil
	})
	if err != nil {
		return ReplicaLog{}, fmt.Errorf("node %d: scanning %s: %w", id, filepath.Base(src), err)
	}
	return rl, nil
}

// CompareReplicaLogs checks, once every node is stopped (StopAll), that the replicas of
// topic-index on the given nodes (the partition's last ISR) hold the same batches — base
// offset, last offset, partition leader epoch and CRC — up to the smallest log end among
// them, and that this end is at least committed (the high watermark the caller last
// saw): every replica in the ISR holds everything committed. Batches past the smallest end
// are not compared, as a replica may hold a tail not yet copied. It returns the logs.
func (pc *ProcessCluster) CompareReplicaLogs(topic string, index int32, isr []int32, committed int64) ([]ReplicaLog, error) {
	var logs []ReplicaLog
	for _, id := range isr {
		rl, err := pc.ReplicaLogs(id, topic, index)
		if err != nil {
			return nil, err
		}
		logs = append(logs, rl)
	}
	if len(logs) == 0 {
		return nil, fmt.Errorf("%s-%d: no replica to compare", topic, index)
	}
	end := logs[0].End
	for _, rl := range logs[1:] {
		end = min(end, rl.End)
	}
	if end < committed {
		return logs, fmt.Errorf("%s-%d: a replica in the ISR ends at %d, below the committed offset %d (ends: %v)",
			topic, index, end, committed, LogEnds(logs))
	}
	want := batchesBelow(logs[0].Batches, end)
	for _, rl := range logs[1:] {
		got := batchesBelow(rl.Batches, end)
		if i, differ := firstDifference(want, got); differ {
			return logs, fmt.Errorf("%s-%d: the replicas on nodes %d and %d differ below offset %d at batch %d: %s and %s",
				topic, index, logs[0].Node, rl.Node, end, i, batchAt(want, i), batchAt(got, i))
		}
	}
	return logs, nil
}

// batchesBelow keeps the batches that start below end.
func batchesBelow(bs []partition.BatchID, end int64) []partition.BatchID {
	if i := slices.IndexFunc(bs, func(b partition.BatchID) bool { return b.BaseOffset >= end }); i >= 0 {
		return bs[:i]
	}
	return bs
}

func firstDifference(a, b []partition.BatchID) (int, bool) {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i, true
		}
	}
	return min(len(a), len(b)), len(a) != len(b)
}

func batchAt(bs []partition.BatchID, i int) string {
	if i >= len(bs) {
		return "nothing"
	}
	b := bs[i]
	return fmt.Sprintf("[%d..%d epoch %d crc %08x]", b.BaseOffset, b.LastOffset, b.LeaderEpoch, b.CRC)
}

// LogEnds maps each replica's node to its log end offset.
func LogEnds(logs []ReplicaLog) map[int32]int64 {
	ends := map[int32]int64{}
	for _, rl := range logs {
		ends[rl.Node] = rl.End
	}
	return ends
}

// copyDir copies the regular files of src into a new directory dst.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
